import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorId } from '../emulators/types.js';

/** How a child process reaches one resource: a URL, JSON-serialisable open options. */
export interface ProcessTarget {
  readonly url: string;
  readonly options?: Record<string, unknown>;
}

/** Resources for one child process, created fresh by the harness, and their cleanup. */
export interface ProcessResources {
  readonly bucket?: ProcessTarget;
  readonly queue?: ProcessTarget;
  readonly kv?: ProcessTarget;
  /**
   * Queues whose opening does I/O (a subscription lookup), for the timeout probe to open through
   * the blackhole when `queue` is set up to open without it (so its send/receive are reached).
   */
  readonly queueOpens?: readonly ProcessTarget[];
  /** Extra environment for the child (emulator endpoints in the SDKs' standard variables). */
  readonly env?: Record<string, string>;
  /** Deletes the resources; the suite calls it after the children exit (or are killed). */
  cleanup?(): Promise<void>;
}

/** Harness of the process-level suite. */
export interface ProcessHarness {
  readonly adapter: string;
  readonly emulator: EmulatorId | null;
  /** When set, the emulator is not available and the suite is skipped with this reason. */
  readonly notRun?: string | undefined;
  /** Fresh resources a child may use (whichever services the adapter offers). */
  open(): Promise<ProcessResources>;
  /**
   * The same services reached at `hostPort` (`127.0.0.1:port`, a blackhole the suite runs:
   * it accepts connections and never answers) instead of the emulator. The resources need not
   * exist; every call through them hangs until its timeout. Absent: the timeout probes skip.
   */
  openVia?(hostPort: string): Promise<ProcessResources>;
  /** Runs once before the suite (start the emulator, create shared resources). */
  beforeAll?(): Promise<void>;
  /** Runs once after the suite, after every child has been killed and every resource cleaned up. */
  afterAll?(): Promise<void>;
}

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const CHILD = here('../process/child.ts');
const REGISTER = here('../process/register.mjs');

/** A running child script whose output lines and exit the test can await. */
export class ChildScript {
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly proc: ChildProcess;
  private waiters: { match: (l: string) => boolean; resolve: () => void }[] = [];
  stderr = '';

  constructor(scenario: string, res: ProcessResources) {
    const spec = { bucket: res.bucket, queue: res.queue, kv: res.kv, queueOpens: res.queueOpens };
    this.proc = spawn(
      process.execPath,
      ['--import', 'tsx', '--import', REGISTER, CHILD, ...scenario.split(' ')],
      {
        env: { ...process.env, ...res.env, PC_SPEC: JSON.stringify(spec), NODE_NO_WARNINGS: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let buf = '';
    this.proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        this.lines.push(line);
        this.waiters = this.waiters.filter((w) => {
          if (!w.match(line)) return true;
          w.resolve();
          return false;
        });
      }
    });
    this.proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-4000);
    });
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        for (const w of this.waiters) w.resolve();
        resolve({ code, signal });
      });
    });
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Resolves when a line starting with `prefix` appears (or the child exits). */
  async line(prefix: string, timeoutMs: number): Promise<string | undefined> {
    const found = () => this.lines.find((l) => l.startsWith(prefix));
    if (found() || !this.running) return found();
    await Promise.race([
      new Promise<void>((resolve) => this.waiters.push({ match: (l) => l.startsWith(prefix), resolve })),
      new Promise((r) => setTimeout(r, timeoutMs)),
    ]);
    return found();
  }

  /** Sends `signal` to the child if it is still running (the scripts give SIGUSR2 a meaning of their own). */
  kill(signal: NodeJS.Signals): void {
    if (this.running) this.proc.kill(signal);
  }

  /** The exit, or undefined when the child is still running after `timeoutMs` (a hang). */
  async exit(timeoutMs: number) {
    return Promise.race([this.exited, new Promise<undefined>((r) => setTimeout(r, timeoutMs))]);
  }

  /** The child's stdout lines and stderr so far, for assertion messages. */
  describe(): string {
    return `stdout:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`;
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A TCP server on 127.0.0.1 that accepts connections and never answers. */
async function blackhole(): Promise<{ hostPort: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    hostPort: `127.0.0.1:${port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/**
 * Process-level conformance: user-style scripts run in their own Node processes against one
 * adapter, judged from outside: a long-poll receive and a running consume() keep the process
 * alive (DESIGN §6), close()/stop() let it exit by itself, SIGTERM lets in-flight work finish,
 * and no failure escapes as an unhandled rejection or a raw error.
 *
 * Bounds below are hang detectors (generous on a loaded 2-core machine), not speed checks.
 */
export function processSuite(h: ProcessHarness): void {
  const title = `process conformance [${h.adapter}${h.emulator ? `/${h.emulator}` : ''}]`;
  const d = h.notRun !== undefined ? describe.skip : describe;
  d(title, () => {
    const opened: ProcessResources[] = [];
    const children: ChildScript[] = [];
    let hole: Awaited<ReturnType<typeof blackhole>> | undefined;
    beforeAll(async () => {
      hole = await blackhole();
      await h.beforeAll?.();
    }, 120_000);
    afterAll(async () => {
      for (const c of children) c.kill('SIGKILL');
      await hole?.close();
      for (const r of opened) await r.cleanup?.().catch(() => {});
      await h.afterAll?.();
    }, 120_000);
    const start = async (scenario: string, pick: (r: ProcessResources) => ProcessResources = (r) => r) => {
      const res = await h.open();
      opened.push(res);
      const c = new ChildScript(scenario, pick(res));
      children.push(c);
      return c;
    };
    const queueOnly = (r: ProcessResources): ProcessResources => ({
      ...(r.queue ? { queue: r.queue } : {}),
      ...(r.env ? { env: r.env } : {}),
    });

    it.concurrent('a long-poll receive on an empty queue keeps the process alive until it returns', async (t) => {
      const probe = await h.open();
      opened.push(probe);
      if (!probe.queue) return t.skip();
      const c = await start('receive-wait', queueOnly);
      const exit = await c.exit(45_000);
      expect(exit, c.describe()).toEqual({ code: 0, signal: null });
      expect(c.lines, c.describe()).toContain('received 0');
      expect(c.lines).toContain('closed');
    }, 60_000);

    it.concurrent('a running consume() keeps the process alive until stop(), then it exits', async (t) => {
      const probe = await h.open();
      opened.push(probe);
      if (!probe.queue) return t.skip();
      const c = await start('consume', queueOnly);
      expect(await c.line('ready', 30_000), c.describe()).toBe('ready');
      await pause(2500);
      expect(c.running, `the consumer's process exited on its own\n${c.describe()}`).toBe(true);
      c.kill('SIGUSR2');
      const exit = await c.exit(45_000);
      expect(exit, c.describe()).toEqual({ code: 0, signal: null });
      expect(c.lines).toContain('handled "ping"');
      expect(c.lines).toContain('stopped acked=1');
      expect(c.lines).toContain('closed');
    }, 90_000);

    it.concurrent('SIGTERM during a handler: the handler finishes and acks, the process exits by itself', async (t) => {
      const probe = await h.open();
      opened.push(probe);
      if (!probe.queue) return t.skip();
      const c = await start('sigterm', queueOnly);
      expect(await c.line('ready', 30_000), c.describe()).toBe('ready');
      c.kill('SIGUSR2');
      expect(await c.line('start', 45_000), c.describe()).toBe('start "job"');
      c.kill('SIGTERM');
      const exit = await c.exit(45_000);
      expect(exit, c.describe()).toEqual({ code: 0, signal: null });
      const order = c.lines.filter((l) => ['end', 'stopped acked=1', 'closed'].includes(l));
      expect(order, c.describe()).toEqual(['end', 'stopped acked=1', 'closed']);
    }, 90_000);

    it.concurrent('after close() the process exits by itself (no lingering handles)', async () => {
      const c = await start('clean-exit');
      const exit = await c.exit(60_000);
      expect(exit, c.describe()).toEqual({ code: 0, signal: null });
      expect(c.lines.at(-1), c.describe()).toBe('closed');
    }, 90_000);

    // A call that timed out against a dead endpoint must not leave SDK work behind (a gRPC call
    // without a deadline, an unaborted request) that keeps the process alive for a minute.
    for (const mode of ['close', 'no-close'] as const) {
      it.concurrent(`after calls time out on a blackholed endpoint the process exits by itself (${mode})`, async (t) => {
        if (!h.openVia || !hole) return t.skip();
        const res = await h.openVia(hole.hostPort);
        const c = new ChildScript(`timeout ${mode}`, res);
        children.push(c);
        expect(await c.line('done', 90_000), c.describe()).toBe('done');
        // A hang detector, not a speed check: lingering SDK work lasts 30-60 s (socket and
        // request bounds); a process with nothing left to do exits in well under a second.
        const exit = await c.exit(20_000);
        expect(exit, `the process stayed alive after its last line\n${c.describe()}`).toEqual({
          code: 0,
          signal: null,
        });
        const calls = c.lines.filter((l) => l.startsWith('call '));
        expect(calls.length, c.describe()).toBeGreaterThan(0);
        for (const l of calls) expect(l, c.describe()).toMatch(/ (TIMEOUT|CANCELLED|UNAVAILABLE)$/);
      }, 150_000);
    }

    it.concurrent('failures stay in the call: PolycloudErrors, no unhandled rejection, no raw error', async () => {
      const c = await start('errors');
      const exit = await c.exit(60_000);
      expect(exit, c.describe()).toEqual({ code: 0, signal: null });
      expect(
        c.lines.filter((l) => /^(RAW|UNHANDLED|UNCAUGHT|resolved)/.test(l)),
        c.describe(),
      ).toEqual([]);
      expect(c.lines.at(-1)).toBe('done');
    }, 90_000);
  });
}
