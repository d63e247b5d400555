/**
 * Chooses, per emulator, where its endpoint comes from and brings it up:
 *   (a) env        a variable already names it: start nothing;
 *   (b) process    installed under .emulators/: start it on free 127.0.0.1 ports;
 *   (c) container  a Docker engine answers: start the pinned image through testcontainers;
 * otherwise the emulator is "missing" and says what to install.
 * POLYCLOUD_SOURCE=container (or process, or provided) uses that one source only.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { CATALOG, type EmulatorDefinition, type ProbeMode } from './catalog.js';
import { containerPlan, dockerAvailable, startContainer } from './containers.js';
import { ENV_SOURCE_VARIABLES, endpointFromEnv } from './env-source.js';
import { emulatorLogsDir, emulatorsDir, pinnedVersions } from './paths.js';
import { LOOPBACK } from './ports.js';
import {
  ProcessStartError,
  processAlive,
  type RunningProcess,
  type StartOnPortsOptions,
  startOnFreePorts,
  startProcess,
} from './process.js';
import { installState, readStamp } from './stamps.js';
import { EMULATOR_IDS, type EmulatorId, type EmulatorStatus, isEmulatorId } from './types.js';

export type { StartOnPortsOptions } from './process.js';

/** The command that installs the emulators; error messages tell users to run it. */
export const INSTALL_COMMAND = 'npm run emulators:install';

/** Where endpoints may come from: POLYCLOUD_SOURCE, parsed (unset: the first source that has it). */
export type SourceChoice = 'auto' | 'provided' | 'process' | 'container';

/**
 * Parses POLYCLOUD_SOURCE (`env` is an alias of `provided`); throws on an unknown value so a typo
 * does not silently fall back to `auto`.
 */
export function parseSourceChoice(value: string | undefined): SourceChoice {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === 'auto') return 'auto';
  if (v === 'provided' || v === 'env') return 'provided';
  if (v === 'process' || v === 'container') return v;
  throw new Error(`POLYCLOUD_SOURCE: unknown value "${value}"; use process, container, provided or auto`);
}

/** POLYCLOUD_EMULATORS, parsed. */
export interface Selection {
  /** 'optional' was given: unavailable emulators make tests "not run" instead of failing. */
  readonly optional: boolean;
  /** Emulators to bring up. */
  readonly ids: readonly EmulatorId[];
  /** The raw value, for messages. */
  readonly raw: string;
}

/**
 * POLYCLOUD_EMULATORS: unset or empty = every emulator, required. A comma/space separated list
 * of emulator ids starts only those; `optional` turns "missing" into "not run"; `none` starts
 * nothing; `all` is every emulator. Unknown words are an error.
 */
export function parseSelection(value: string | undefined): Selection {
  const raw = (value ?? '').trim();
  const words = raw
    .split(/[\s,]+/)
    .map((w) => w.trim().toLowerCase())
    .filter(Boolean);
  let optional = false;
  let none = false;
  const ids: EmulatorId[] = [];
  for (const word of words) {
    if (word === 'optional') optional = true;
    else if (word === 'none' || word === 'off') none = true;
    else if (word === 'all' || word === 'required') ids.push(...EMULATOR_IDS);
    else if (isEmulatorId(word)) ids.push(word);
    else {
      throw new Error(
        `POLYCLOUD_EMULATORS: unknown word "${word}"; use emulator ids (${EMULATOR_IDS.join(', ')}), ` +
          '"optional", "all" or "none"',
      );
    }
  }
  const chosen = none
    ? []
    : ids.length > 0
      ? EMULATOR_IDS.filter((id) => ids.includes(id))
      : [...EMULATOR_IDS];
  return { optional, ids: chosen, raw };
}

function onPath(tool: string, env: NodeJS.ProcessEnv): boolean {
  return (env.PATH ?? '').split(path.delimiter).some((dir) => dir && existsSync(path.join(dir, tool)));
}

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A scratch directory .emulators/run/<id>-<pid>-XXXXXX for one start, removed on stop. Directories
 * left by processes that no longer exist (killed before cleaning up) are removed here.
 */
function makeRunDir(root: string, id: EmulatorId): string {
  const runRoot = path.join(root, 'run');
  mkdirSync(runRoot, { recursive: true });
  for (const entry of readdirSync(runRoot)) {
    const owner = /-(\d+)-[^-]+$/.exec(entry)?.[1];
    if (owner && !processAlive(Number(owner)))
      rmSync(path.join(runRoot, entry), { recursive: true, force: true });
  }
  return mkdtempSync(path.join(runRoot, `${id}-${process.pid}-`));
}

/** Probe until it answers or `timeoutMs` passes; resolves with the time it took. */
async function probeUntilReady(
  def: EmulatorDefinition,
  env: Readonly<Record<string, string>>,
  mode: ProbeMode,
  timeoutMs: number,
): Promise<number> {
  const started = performance.now();
  let pause = 25;
  for (;;) {
    try {
      await def.probe(env, mode);
      return Math.round(performance.now() - started);
    } catch (err) {
      if (performance.now() - started > timeoutMs) throw err;
    }
    await wait(pause);
    pause = Math.min(pause * 2, 250);
  }
}

/** Options of `startEmulator` / `startEmulators`. */
export interface StartOptions {
  /** Environment to read sources from and to pass to processes. Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Where process logs go. Default reports/emulators. */
  readonly logDir?: string;
  /** Log file stem; default the emulator id. */
  readonly logName?: string;
  /** Readiness deadline per emulator. Default 90 s. */
  readonly readyTimeoutMs?: number;
  /** Port choice and retries (tests replace the picker). */
  readonly ports?: StartOnPortsOptions;
  /** Whether the container path may be used. Default: when a Docker engine answers. */
  readonly docker?: boolean;
  /** Keep state on disk where the emulator can (see RunContext.persistent); process source only. */
  readonly persistent?: boolean;
}

/** Options of `EmulatorHandle.restart`. */
export interface RestartOptions {
  /** SIGKILL the process group at once (a crash) instead of SIGTERM with a grace period. */
  readonly kill?: boolean;
  /** How long the emulator stays down before it starts again. Default 0. */
  readonly downMs?: number;
}

/** One emulator brought up by `startEmulator`: its status, and how to stop it. */
export interface EmulatorHandle {
  readonly status: EmulatorStatus;
  /** Stops what was started (nothing for env sources and failures). Safe to call twice. */
  stop(): Promise<void>;
  /**
   * Stops the emulator process and starts it again on the SAME ports and scratch directory
   * (so on-disk state survives where `persistent` was asked for), resolving once it answers.
   * Only for emulators started as processes here; absent otherwise.
   */
  restart?(options?: RestartOptions): Promise<void>;
}

const noop = async () => {};

/** Bring up one emulator from the first source that has it. Never throws for a missing emulator. */
export async function startEmulator(id: EmulatorId, options: StartOptions = {}): Promise<EmulatorHandle> {
  const env = options.env ?? process.env;
  const def = CATALOG[id];
  const version = pinnedVersions().emulators[id].version;
  const installMs = readStamp(id, env)?.installMs;
  const timeoutMs = options.readyTimeoutMs ?? 90_000;
  const base = { id, version, ...(installMs !== undefined ? { installMs } : {}) };
  const only = parseSourceChoice(env.POLYCLOUD_SOURCE);

  // (a) the environment names it
  const fromEnv = only === 'auto' || only === 'provided' ? endpointFromEnv(id, env) : undefined;
  if (fromEnv?.kind === 'invalid') {
    return { status: { ...base, state: 'failed', reason: fromEnv.reason }, stop: noop };
  }
  if (fromEnv?.kind === 'endpoint') {
    try {
      const startupMs = await probeUntilReady(
        def,
        fromEnv.endpoint.env,
        'protocol',
        Math.min(timeoutMs, 10_000),
      );
      return { status: { ...base, state: 'ready', endpoint: fromEnv.endpoint, startupMs }, stop: noop };
    } catch (err) {
      return {
        status: {
          ...base,
          state: 'failed',
          reason:
            `${fromEnv.variables.join(', ')} ${fromEnv.variables.length > 1 ? 'are' : 'is'} set, but nothing answers there ` +
            `(${err instanceof Error ? err.message : String(err)}); start it or unset the variable`,
        },
        stop: noop,
      };
    }
  }

  // (b) installed under .emulators/
  const root = emulatorsDir(env);
  const installed = installState(id, def.marker(root), env);
  if (installed.state === 'installed' && (only === 'auto' || only === 'process')) {
    const missingTool = def.runtimeTools.find((tool) => !onPath(tool, env));
    if (missingTool) {
      return {
        status: {
          ...base,
          state: 'failed',
          reason: `${def.title} is installed but needs \`${missingTool}\` on PATH`,
        },
        stop: noop,
      };
    }
    const runDir = makeRunDir(root, id);
    const logFile = path.join(options.logDir ?? emulatorLogsDir, `${options.logName ?? id}.log`);
    const cleanRunDir = () => rmSync(runDir, { recursive: true, force: true });
    const persistent = options.persistent === true;
    try {
      const spec = (ports: Readonly<Record<string, number>>) => {
        const cmd = def.command({ root, host: LOOPBACK, ports, runDir, persistent });
        return {
          name: id,
          command: cmd.command,
          args: cmd.args,
          cwd: cmd.cwd,
          env: { ...env, ...cmd.env },
          logFile,
          readyTimeoutMs: timeoutMs,
          missingHint: `run \`${INSTALL_COMMAND}\``,
          probe: () => def.probe(def.env(LOOPBACK, ports), 'identity'),
        };
      };
      const started = await startOnFreePorts(def.portNames, spec, options.ports);
      let current: RunningProcess = started.process;
      const where = def.portNames.map((n) => `${LOOPBACK}:${started.ports[n]}`).join(', ');
      const retried = started.retries.length
        ? `; ports ${started.retries.map((r) => Object.values(r.ports).join('+')).join(', ')} were taken`
        : '';
      const endpoint = {
        id,
        source: 'process' as const,
        env: def.env(LOOPBACK, started.ports),
        description: `${id} ${version} (process on ${where}${retried})`,
      };
      return {
        status: {
          ...base,
          state: 'ready',
          endpoint,
          startupMs: started.process.startupMs,
          pid: started.process.pid,
          logFile,
        },
        stop: async () => {
          await current.stop();
          cleanRunDir();
        },
        restart: async (r: RestartOptions = {}) => {
          if (r.kill) {
            try {
              process.kill(-current.pid, 'SIGKILL');
            } catch {
              // already gone
            }
          }
          await current.stop();
          if (r.downMs) await wait(r.downMs);
          current = await startProcess(spec(started.ports));
        },
      };
    } catch (err) {
      cleanRunDir();
      const message = err instanceof Error ? err.message : String(err);
      const hint =
        err instanceof ProcessStartError && err.kind === 'missing-binary'
          ? ''
          : ` (reinstall: ${INSTALL_COMMAND} -- --force ${id})`;
      return { status: { ...base, state: 'failed', reason: `${message}${hint}`, logFile }, stop: noop };
    }
  }

  // (c) a container
  const plan = only === 'auto' || only === 'container' ? containerPlan(id) : undefined;
  const docker = options.docker ?? (plan ? await dockerAvailable(env) : false);
  if (only === 'container' && !(plan && docker)) {
    return {
      status: {
        ...base,
        state: 'failed',
        reason: plan
          ? `POLYCLOUD_SOURCE=container, but no Docker engine answers (DOCKER_HOST=${env.DOCKER_HOST ?? 'unset'}); ` +
            'start Docker or Podman (scripts/podman-setup.sh) or unset POLYCLOUD_SOURCE'
          : `POLYCLOUD_SOURCE=container, but ${def.title} has no container image pinned ` +
            '(conformance/emulators/versions.json "containers"); leave it out of POLYCLOUD_EMULATORS',
      },
      stop: noop,
    };
  }
  if (plan && docker) {
    const started = performance.now();
    try {
      const container = await startContainer(plan, env);
      try {
        await probeUntilReady(def, container.endpoint.env, 'protocol', timeoutMs);
      } catch (err) {
        const tail = await container.logTail().catch(() => '');
        await container.stop();
        const message = err instanceof Error ? err.message : String(err);
        throw new Error(
          `${message}${tail ? `\n  last lines of the container's log:\n    ${tail.split('\n').join('\n    ')}` : ''}`,
        );
      }
      const startupMs = Math.round(performance.now() - started);
      return {
        status: { ...base, state: 'ready', endpoint: container.endpoint, startupMs },
        stop: container.stop,
      };
    } catch (err) {
      return {
        status: {
          ...base,
          state: 'failed',
          reason: `container ${plan.image} did not start: ${err instanceof Error ? err.message : String(err)}`,
        },
        stop: noop,
      };
    }
  }

  // none of the three
  const variables = ENV_SOURCE_VARIABLES.filter((m) => m.emulator === id && !m.variable.endsWith('_S3'))
    .map((m) => m.variable)
    .join(' or ');
  const why =
    installed.state === 'outdated' ? `installed copy is outdated: ${installed.reason}` : 'not installed';
  return {
    status: {
      ...base,
      state: 'missing',
      reason:
        `${def.title} ${version} (${def.services}) is not available: ${why}. Run \`${INSTALL_COMMAND}\`` +
        ` (or set ${variables} to a running one${plan ? ', or start a Docker engine' : ''}).`,
    },
    stop: noop,
  };
}

/** What `startEmulators` brought up: every status, and one `stop` for all of it. */
export interface EmulatorsRun {
  readonly selection: Selection;
  /** One status per emulator id, in EMULATOR_IDS order (not-selected ones included). */
  readonly statuses: readonly EmulatorStatus[];
  /** Stop everything started; safe to call twice. */
  stop(): Promise<void>;
}

/** Start the selected emulators in parallel. */
export async function startEmulators(
  selection: Selection,
  options: StartOptions = {},
): Promise<EmulatorsRun> {
  const versions = pinnedVersions().emulators;
  const handles = await Promise.all(
    EMULATOR_IDS.map(async (id): Promise<EmulatorHandle> => {
      if (!selection.ids.includes(id)) {
        return {
          status: {
            id,
            version: versions[id].version,
            state: 'not-selected',
            reason: `not selected by POLYCLOUD_EMULATORS=${selection.raw}`,
          },
          stop: noop,
        };
      }
      return startEmulator(id, options);
    }),
  );
  let stopping: Promise<void> | undefined;
  return {
    selection,
    statuses: handles.map((h) => h.status),
    stop: () => {
      stopping ??= Promise.allSettled(handles.map((h) => h.stop())).then(() => undefined);
      return stopping;
    },
  };
}

/** A short table: emulator, state, source, endpoint, start-up and install times. */
export function formatStatusTable(statuses: readonly EmulatorStatus[]): string {
  const rows = statuses.map((s) => [
    s.id,
    s.version,
    s.state,
    s.endpoint?.source ?? '-',
    s.endpoint
      ? Object.entries(s.endpoint.env)
          .filter(([k]) => /ENDPOINT|HOST/.test(k))
          .map(([, v]) => v)
          .join(' ')
      : s.state === 'not-selected'
        ? ''
        : (s.reason ?? '').split('\n')[0]!.slice(0, 110),
    s.startupMs !== undefined ? String(s.startupMs) : '-',
    s.installMs !== undefined ? (s.installMs / 1000).toFixed(1) : '-',
  ]);
  for (const s of statuses) {
    if (s.id === 'azurite' && s.endpoint) {
      const row = rows.find((r) => r[0] === 'azurite')!;
      const cs = s.endpoint.env.AZURE_STORAGE_CONNECTION_STRING ?? '';
      row[4] = [...cs.matchAll(/(Blob|Queue|Table)Endpoint=([^;]+)/g)]
        .map((m) => `${m[1]!.toLowerCase()} ${m[2]!.replace(/\/devstoreaccount1$/, '')}`)
        .join(', ');
    }
  }
  const header = ['emulator', 'version', 'state', 'source', 'endpoint', 'startup ms', 'install s'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** An emulator started for one test file alone (see `startPrivateEmulator`). */
export interface PrivateEmulator {
  /** The SDK variables of this instance (endpoints, credentials). */
  readonly env: Readonly<Record<string, string>>;
  readonly handle: EmulatorHandle;
  /** Stops the process and removes its scratch directory. */
  stop(): Promise<void>;
  /** Stops it and starts it again on the same ports and scratch directory. */
  restart(options?: RestartOptions): Promise<void>;
}

/**
 * Starts a private instance of an installed emulator as a process on free 127.0.0.1 ports,
 * whatever the shared run uses: for probes that restart it, fill it up, or need it on disk.
 * Throws when it cannot start (the message says why).
 */
export async function startPrivateEmulator(
  id: EmulatorId,
  options: { readonly persistent?: boolean; readonly logName?: string } = {},
): Promise<PrivateEmulator> {
  // Drop variables that name a shared instance, so the installed copy is started.
  const env: NodeJS.ProcessEnv = { ...process.env, POLYCLOUD_SOURCE: 'process' };
  for (const v of ENV_SOURCE_VARIABLES) delete env[v.variable];
  const handle = await startEmulator(id, {
    env,
    ...(options.persistent ? { persistent: true } : {}),
    logName: options.logName ?? `${id}-private-${process.pid}`,
  });
  const { status } = handle;
  if (status.state !== 'ready' || !status.endpoint || !handle.restart) {
    await handle.stop();
    throw new Error(`${id} did not start as a private instance: ${status.reason ?? status.state}`);
  }
  const restart = handle.restart;
  return { env: status.endpoint.env, handle, stop: () => handle.stop(), restart: (o) => restart(o) };
}
