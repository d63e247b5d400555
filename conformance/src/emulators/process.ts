/**
 * Process supervision: spawn an emulator in its own process group, log to a file, wait until a
 * real request succeeds, and make sure nothing of it survives (stop(), process exit, SIGINT,
 * SIGTERM, SIGHUP, and, through a tiny watchdog, even a SIGKILL of this process).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, closeSync, constants, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { freePorts } from './ports.js';

export interface ProcessSpec {
  /** Short name used in messages, e.g. 'moto'. */
  readonly name: string;
  /** Executable: an absolute path, or a name looked up on PATH (java, node). */
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** stdout and stderr go here (truncated at start). */
  readonly logFile: string;
  /** One real request; resolves when the process serves, rejects while it does not (yet). */
  readonly probe: () => Promise<void>;
  /** Give up waiting for readiness after this long. Default 60 s. */
  readonly readyTimeoutMs?: number;
  /** Appended to the "not found" message when the executable is missing. */
  readonly missingHint?: string;
  /** Grace period between SIGTERM and SIGKILL on stop. Default 2 s. */
  readonly stopGraceMs?: number;
}

export type ProcessStartFailure = 'missing-binary' | 'address-in-use' | 'exited' | 'timeout';

export class ProcessStartError extends Error {
  override readonly name = 'ProcessStartError';
  constructor(
    message: string,
    readonly kind: ProcessStartFailure,
    readonly logFile: string,
    readonly logTail: string,
  ) {
    super(message);
  }
}

export interface RunningProcess {
  readonly name: string;
  /** Process id of the group leader; the group id is the same number. */
  readonly pid: number;
  /** Spawn to first successful probe. */
  readonly startupMs: number;
  readonly logFile: string;
  /** True once the leader has exited. */
  readonly exited: boolean;
  /** SIGTERM the whole group, SIGKILL what is left after the grace period; resolves when all is gone. */
  stop(): Promise<void>;
}

const ADDRESS_IN_USE =
  /address already in use|EADDRINUSE|BindException|Address in use|port is already allocated/i;

/** Every group started by this process and not yet stopped. */
const live = new Map<number, { name: string; watchdog: ChildProcess | undefined }>();

function killGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false; // ESRCH: no process left in the group
  }
}

/** True while any process of group `pgid` exists. */
export function processGroupAlive(pgid: number): boolean {
  return killGroup(pgid, 0);
}

/** True while process `pid` exists. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function killAllNow(): void {
  for (const [pid, { watchdog }] of live) {
    killGroup(pid, 'SIGKILL');
    watchdog?.kill('SIGKILL');
  }
  live.clear();
}

let handlersInstalled = false;

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      killAllNow();
      // If nobody else handles the signal, restore the default behaviour (terminate).
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

/**
 * A detached `sh` that SIGKILLs the group if this process dies without cleaning up (e.g. it was
 * SIGKILLed itself). It polls once a second and exits on its own once the group is gone.
 */
function startWatchdog(pgid: number): ChildProcess | undefined {
  if (process.platform === 'win32') return undefined;
  // `kill -0 -PGID` (no `--`): the form both dash and bash accept.
  const script = `while kill -0 ${process.pid} 2>/dev/null; do kill -0 -${pgid} 2>/dev/null || exit 0; sleep 1; done; kill -9 -${pgid} 2>/dev/null`;
  const watchdog = spawn('/bin/sh', ['-c', script], { detached: true, stdio: 'ignore' });
  watchdog.on('error', () => {});
  watchdog.unref();
  return watchdog;
}

function readTail(file: string, bytes = 4_000): string {
  try {
    const text = readFileSync(file, 'utf8');
    return text.length > bytes ? text.slice(-bytes) : text;
  } catch {
    return '';
  }
}

function executableProblem(command: string): string | undefined {
  if (!command.includes('/')) return undefined; // looked up on PATH by spawn
  try {
    if (!statSync(command).isFile()) return `${command} is not a file`;
    accessSync(command, constants.X_OK);
    return undefined;
  } catch {
    return `executable not found: ${command}`;
  }
}

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Spawn `spec`, wait for its probe to succeed, return a handle to stop it. */
export async function startProcess(spec: ProcessSpec): Promise<RunningProcess> {
  const problem = executableProblem(spec.command);
  if (problem) {
    throw new ProcessStartError(
      `${spec.name}: ${problem}${spec.missingHint ? `. ${spec.missingHint}` : ''}`,
      'missing-binary',
      spec.logFile,
      '',
    );
  }
  mkdirSync(path.dirname(spec.logFile), { recursive: true });
  const logFd = openSync(spec.logFile, 'w');
  installExitHandlers();
  const started = performance.now();
  let child: ChildProcess;
  try {
    child = spawn(spec.command, [...spec.args], {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true, // own process group: stop() kills the group, children included
      stdio: ['ignore', logFd, logFd],
    });
  } finally {
    closeSync(logFd);
  }
  let spawnError: Error | undefined;
  child.on('error', (err) => {
    spawnError = err;
  });
  // Wait for 'spawn' or 'error' so a missing PATH command is reported as such.
  await new Promise<void>((resolve) => {
    child.once('spawn', () => resolve());
    child.once('error', () => resolve());
  });
  if (spawnError || child.pid === undefined) {
    const code = (spawnError as NodeJS.ErrnoException | undefined)?.code;
    throw new ProcessStartError(
      code === 'ENOENT'
        ? `${spec.name}: executable not found: ${spec.command}${spec.missingHint ? `. ${spec.missingHint}` : ''}`
        : `${spec.name}: could not start ${spec.command}: ${spawnError?.message ?? 'no pid'}`,
      code === 'ENOENT' ? 'missing-binary' : 'exited',
      spec.logFile,
      '',
    );
  }
  const pid = child.pid;
  const watchdog = startWatchdog(pid);
  live.set(pid, { name: spec.name, watchdog });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (killGroup(pid, 'SIGTERM')) {
        const exited = await waitForExit(child, spec.stopGraceMs ?? 2_000);
        if (!exited) {
          killGroup(pid, 'SIGKILL');
          await waitForExit(child, 5_000);
        }
      }
      // Whatever is left of the group (a child that ignored SIGTERM, or outlived its parent).
      for (let i = 0; i < 40 && processGroupAlive(pid); i++) {
        killGroup(pid, 'SIGKILL');
        await wait(50);
      }
      watchdog?.kill('SIGKILL');
      live.delete(pid);
    })();
    return stopping;
  };

  const deadline = started + (spec.readyTimeoutMs ?? 60_000);
  let lastError: unknown;
  let pause = 25;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      const tail = readTail(spec.logFile);
      const inUse = ADDRESS_IN_USE.test(tail);
      throw new ProcessStartError(
        `${spec.name} exited before it was ready (${child.exitCode !== null ? `exit code ${child.exitCode}` : child.signalCode})` +
          `${inUse ? ': address already in use' : ''}; log: ${spec.logFile}\n${tail.trim().split('\n').slice(-15).join('\n')}`,
        inUse ? 'address-in-use' : 'exited',
        spec.logFile,
        tail,
      );
    }
    try {
      await spec.probe();
      break;
    } catch (err) {
      lastError = err;
    }
    if (performance.now() > deadline) {
      await stop();
      const tail = readTail(spec.logFile);
      throw new ProcessStartError(
        `${spec.name} did not become ready within ${spec.readyTimeoutMs ?? 60_000} ms ` +
          `(last probe: ${lastError instanceof Error ? lastError.message : String(lastError)}); log: ${spec.logFile}\n` +
          tail.trim().split('\n').slice(-15).join('\n'),
        'timeout',
        spec.logFile,
        tail,
      );
    }
    await wait(pause);
    pause = Math.min(pause * 2, 250);
  }
  const startupMs = Math.round(performance.now() - started);
  // The probe may have reached a server that was already on the port while ours failed to bind.
  if (child.exitCode !== null || child.signalCode !== null) {
    await stop();
    const tail = readTail(spec.logFile);
    throw new ProcessStartError(
      `${spec.name} exited right after a probe succeeded: another server answers on its port; log: ${spec.logFile}`,
      ADDRESS_IN_USE.test(tail) ? 'address-in-use' : 'exited',
      spec.logFile,
      tail,
    );
  }
  return {
    name: spec.name,
    pid,
    startupMs,
    logFile: spec.logFile,
    get exited() {
      return child.exitCode !== null || child.signalCode !== null;
    },
    stop,
  };
}

export interface PortRetryNote {
  readonly ports: Readonly<Record<string, number>>;
  readonly error: string;
}

/** How `startOnFreePorts` picks ports and retries when one is taken meanwhile. */
export interface StartOnPortsOptions {
  /** Attempts when a port turns out to be taken. Default 3. */
  readonly attempts?: number;
  /** Port picker (tests replace it); default: free ports on 127.0.0.1. */
  readonly pickPorts?: (count: number) => Promise<number[]>;
}

export interface StartedOnPorts {
  readonly process: RunningProcess;
  readonly ports: Readonly<Record<string, number>>;
  /** Earlier attempts that failed because a port was taken. */
  readonly retries: readonly PortRetryNote[];
}

/**
 * Pick free ports for `portNames`, build the spec for them and start it; when the process fails
 * because a port was taken in the meantime, pick new ports and try again.
 */
export async function startOnFreePorts(
  portNames: readonly string[],
  build: (ports: Readonly<Record<string, number>>) => ProcessSpec,
  options: StartOnPortsOptions = {},
): Promise<StartedOnPorts> {
  const attempts = options.attempts ?? 3;
  const pick = options.pickPorts ?? freePorts;
  const retries: PortRetryNote[] = [];
  for (let attempt = 1; ; attempt++) {
    const numbers = await pick(portNames.length);
    const ports = Object.fromEntries(portNames.map((name, i) => [name, numbers[i]!]));
    try {
      const running = await startProcess(build(ports));
      return { process: running, ports, retries };
    } catch (err) {
      if (!(err instanceof ProcessStartError) || err.kind !== 'address-in-use' || attempt >= attempts) {
        if (err instanceof ProcessStartError && err.kind === 'address-in-use') {
          const tried = [...retries.map((r) => r.ports), ports].map((p) => Object.values(p).join('+'));
          err.message = `${err.message}\n(ports tried: ${tried.join(', ')})`;
        }
        throw err;
      }
      retries.push({ ports, error: err.message.split('\n')[0]! });
    }
  }
}

/** Stop everything this process started (used by global teardown and the CLI). */
export function livePids(): number[] {
  return [...live.keys()];
}
