import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportLines } from '@polycloud/conformance/emulators/cli';
import {
  formatStatusTable,
  parseSelection as parseSelectionOf,
  startEmulators,
} from '@polycloud/conformance/emulators/supervisor';
import { CliError, note, say, sayJson } from './util.js';

/** An unknown emulator id (a typo in --only) is a usage error, exit 2. */
function parseSelection(value: string | undefined): ReturnType<typeof parseSelectionOf> {
  try {
    return parseSelectionOf(value);
  } catch (err) {
    throw new CliError(
      'INVALID_ARGUMENT',
      (err instanceof Error ? err.message : String(err)).replace(/^POLYCLOUD_EMULATORS: /, ''),
      'pass --only (or POLYCLOUD_EMULATORS) a comma-separated list of those ids',
    );
  }
}

/** What `up` leaves for `env` and `down`: the supervising process and the variables. */
interface State {
  readonly pid: number;
  readonly env: Record<string, string>;
  readonly exports: string[];
  /** The emulators that came up (absent in state written by older versions). */
  readonly ids?: string[];
}

/** The repository the emulator harness belongs to (it installs into <root>/.emulators). */
function repoRoot(): string {
  const conformanceIndex = fileURLToPath(import.meta.resolve('@polycloud/conformance'));
  return join(dirname(conformanceIndex), '..', '..');
}

/** POLYCLOUD_EMULATORS_STATE, else <repo>/reports/emulators/polycloud-cli.json (gitignored). */
export function statePath(): string {
  return (
    process.env.POLYCLOUD_EMULATORS_STATE ?? join(repoRoot(), 'reports', 'emulators', 'polycloud-cli.json')
  );
}

function readState(): State | undefined {
  const p = statePath();
  if (!existsSync(p)) return undefined;
  const s = JSON.parse(readFileSync(p, 'utf8')) as State;
  if (!alive(s.pid)) {
    rmSync(p, { force: true });
    return undefined;
  }
  return s;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function emulatorsUp(o: { only?: string; detach?: boolean }): Promise<void> {
  const running = readState();
  if (running) {
    // Printing the running set's variables for a different --only would point the caller's
    // next commands at the wrong services, with exit code 0.
    const wanted = o.only === undefined ? [] : parseSelection(o.only).ids;
    const missing = running.ids === undefined ? [] : wanted.filter((id) => !running.ids?.includes(id));
    if (missing.length > 0) {
      throw new CliError(
        'PRECONDITION_FAILED',
        `emulators are already running (pid ${running.pid}: ${running.ids?.join(', ') || 'none ready'}) without ${missing.join(', ')}`,
        `run \`polycloud emulators down\`, then \`polycloud emulators up --only ${[...new Set([...(running.ids ?? []), ...wanted])].join(',')}\``,
      );
    }
    note(`emulators already running (pid ${running.pid}); \`polycloud emulators down\` stops them`);
    for (const l of running.exports) say(l);
    return;
  }
  const selection = parseSelection(o.only ?? process.env.POLYCLOUD_EMULATORS);
  if (o.detach) return detach(o.only);
  const run = await startEmulators(selection);
  note(formatStatusTable(run.statuses));
  const problems = run.statuses.filter((s) => s.state === 'failed' || s.state === 'missing');
  for (const s of problems) note(`${s.id}: ${s.reason}`);
  const env: Record<string, string> = {};
  for (const s of run.statuses)
    if (s.state === 'ready' && s.endpoint && s.id !== 'elasticmq' && s.id !== 'dynalite')
      Object.assign(env, s.endpoint.env);
  const exports = exportLines(run.statuses);
  const path = statePath();
  mkdirSync(dirname(path), { recursive: true });
  const ids = run.statuses.filter((s) => s.state === 'ready').map((s) => s.id);
  writeFileSync(path, JSON.stringify({ pid: process.pid, env, exports, ids } satisfies State, null, 2));
  for (const l of exports) say(l);
  if (problems.length > 0 && Object.keys(env).length === 0) {
    rmSync(path, { force: true });
    await run.stop();
    throw new CliError(
      'UNAVAILABLE',
      'no emulator could be started',
      'run `npm run emulators:install` first',
    );
  }
  note('emulators running; Ctrl-C (or `polycloud emulators down`) stops them');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await run.stop();
  rmSync(path, { force: true });
  note('emulators stopped');
}

/** Starts `polycloud emulators up` in the background and waits until it has written its state. */
async function detach(only: string | undefined): Promise<void> {
  const path = statePath();
  rmSync(path, { force: true });
  const log = join(dirname(path), 'polycloud-cli.log');
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(log, 'w');
  const bin = fileURLToPath(new URL('./bin.js', import.meta.url));
  const child = spawn(process.execPath, [bin, 'emulators', 'up', ...(only ? ['--only', only] : [])], {
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  child.unref();
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    if (existsSync(path)) {
      const s = readState();
      if (s) {
        note(`emulators running in the background (pid ${s.pid}, log ${log})`);
        for (const l of s.exports) say(l);
        return;
      }
    }
    if (child.exitCode !== null || !alive(child.pid ?? -1))
      throw new CliError(
        'UNAVAILABLE',
        `the emulators did not start; see ${log}`,
        'run `npm run emulators:install` first',
      );
  }
  throw new CliError('TIMEOUT', `the emulators did not become ready within 5 minutes; see ${log}`);
}

export async function emulatorsDown(): Promise<void> {
  const s = readState();
  if (!s) return say('no emulators started by `polycloud emulators up` are running');
  process.kill(s.pid, 'SIGTERM');
  const deadline = Date.now() + 60_000;
  while (alive(s.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  if (alive(s.pid)) throw new CliError('TIMEOUT', `pid ${s.pid} did not stop within 60 s`);
  rmSync(statePath(), { force: true });
  say('emulators stopped');
}

export async function emulatorsEnv(o: { json?: boolean }): Promise<void> {
  const s = readState();
  if (!s)
    throw new CliError(
      'NOT_FOUND',
      'no emulators are running',
      'start them with `polycloud emulators up --detach`',
    );
  if (o.json) return sayJson(s.env);
  for (const l of s.exports) say(l);
}
