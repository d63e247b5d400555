import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = join(here, '..', '..', '..');
/** The installed entry (what npm links as `polycloud`), which runs dist/bin.js. */
export const BIN = join(here, '..', 'bin', 'polycloud.mjs');

/**
 * Builds the CLI (and what it depends on) with `tsc -b`, once at a time across test files: the
 * tests drive the real binary, which runs from dist like an installed package.
 */
export async function buildCli(): Promise<void> {
  const lock = join(REPO, 'packages', 'cli', '.build-lock');
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 180_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error('timed out waiting for another build of packages/cli');
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    execFileSync(
      process.execPath,
      [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'packages/cli'],
      {
        cwd: REPO,
        stdio: 'pipe',
      },
    );
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `polycloud ...args` as a child process. */
export function polycloud(
  args: readonly string[],
  opts: { env?: Record<string, string>; input?: string | Buffer; cwd?: string } = {},
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? REPO,
      // A clean environment: only what the test gives, plus PATH/HOME; no ambient cloud credentials.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code: code ?? -1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
    child.stdin.end(opts.input ?? '');
  });
}

/** JSON lines of stdout. */
export function jsonLines(s: string): unknown[] {
  return s
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as unknown);
}
