import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePorts } from '../../src/emulators/ports.js';
import { httpRequest } from '../../src/emulators/probes.js';
import {
  type ProcessSpec,
  ProcessStartError,
  processAlive,
  processGroupAlive,
  startOnFreePorts,
  startProcess,
} from '../../src/emulators/process.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fake = path.join(here, 'fixtures', 'fake-emulator.mjs');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'polycloud-harness-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let logCounter = 0;
function fakeSpec(port: number, extra: string[] = [], overrides: Partial<ProcessSpec> = {}): ProcessSpec {
  return {
    name: 'fake',
    command: process.execPath,
    args: [fake, '--port', String(port), ...extra],
    logFile: path.join(tmp, `fake-${++logCounter}.log`),
    probe: async () => {
      const res = await httpRequest(`http://127.0.0.1:${port}/`);
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    },
    readyTimeoutMs: 10_000,
    ...overrides,
  };
}

async function until(check: () => boolean, ms = 5_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

describe('readiness', () => {
  it('waits for the first real answer, not for the process to exist', async () => {
    const [port] = await freePorts(1);
    // Listens only after 400 ms, then answers 503 for another 400 ms.
    const running = await startProcess(fakeSpec(port!, ['--delay-ms', '400', '--warm-ms', '400']));
    try {
      expect(running.startupMs).toBeGreaterThanOrEqual(750);
      const res = await httpRequest(`http://127.0.0.1:${port}/`);
      expect(res.status).toBe(200);
      expect(res.body).toBe('fake-emulator ready');
    } finally {
      await running.stop();
    }
  });

  it('gives up after readyTimeoutMs with the last probe error, and leaves nothing running', async () => {
    const [port] = await freePorts(1);
    const spec = fakeSpec(port!, ['--warm-ms', '600000'], { readyTimeoutMs: 700 });
    const err = await startProcess(spec).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProcessStartError);
    expect((err as ProcessStartError).kind).toBe('timeout');
    expect((err as Error).message).toMatch(/did not become ready within 700 ms \(last probe: HTTP 503\)/);
    expect(await new Promise((r) => net.connect(port!, '127.0.0.1').on('error', () => r('refused')))).toBe(
      'refused',
    );
  });

  it('reports a process that exits before it is ready, with its log', async () => {
    const [port] = await freePorts(1);
    const err = await startProcess(fakeSpec(port!, ['--exit-code', '3'])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProcessStartError);
    expect((err as ProcessStartError).kind).toBe('exited');
    expect((err as Error).message).toContain('exit code 3');
    expect((err as Error).message).toContain('fake-emulator: exiting as asked');
  });
});

describe('a port already taken', () => {
  async function occupy(): Promise<{ port: number; close: () => Promise<void> }> {
    // Another program holding the port: accepts connections and drops them.
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return {
      port: (server.address() as net.AddressInfo).port,
      close: () => new Promise((r) => server.close(() => r())),
    };
  }

  it('is detected and the supervisor moves to other ports', async () => {
    const taken = await occupy();
    try {
      let calls = 0;
      const pickPorts = async (n: number) => (++calls === 1 ? [taken.port] : freePorts(n));
      const started = await startOnFreePorts(['http'], (ports) => fakeSpec(ports.http!), { pickPorts });
      try {
        expect(calls).toBe(2);
        expect(started.ports.http).not.toBe(taken.port);
        expect(started.retries).toHaveLength(1);
        expect(started.retries[0]!.ports.http).toBe(taken.port);
        expect(started.retries[0]!.error).toMatch(/address already in use/);
      } finally {
        await started.process.stop();
      }
    } finally {
      await taken.close();
    }
  });

  it('is reported clearly when every attempt hits a taken port', async () => {
    const taken = await occupy();
    try {
      const err = await startOnFreePorts(['http'], (ports) => fakeSpec(ports.http!), {
        attempts: 2,
        pickPorts: async () => [taken.port],
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProcessStartError);
      expect((err as ProcessStartError).kind).toBe('address-in-use');
      expect((err as Error).message).toMatch(/address already in use/);
      expect((err as Error).message).toContain(`ports tried: ${taken.port}, ${taken.port}`);
    } finally {
      await taken.close();
    }
  });
});

describe('a missing binary', () => {
  it('names the install command (absolute path)', async () => {
    const err = await startProcess(
      fakeSpec(1, [], {
        command: path.join(tmp, 'no-such-emulator'),
        missingHint: 'run `npm run emulators:install`',
      }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProcessStartError);
    expect((err as ProcessStartError).kind).toBe('missing-binary');
    expect((err as Error).message).toContain('executable not found');
    expect((err as Error).message).toContain('npm run emulators:install');
  });

  it('names the install command (command looked up on PATH)', async () => {
    const err = await startProcess(
      fakeSpec(1, [], { command: 'polycloud-no-such-tool', missingHint: 'run `npm run emulators:install`' }),
    ).catch((e: unknown) => e);
    expect((err as ProcessStartError).kind).toBe('missing-binary');
    expect((err as Error).message).toContain('npm run emulators:install');
  });
});

describe('teardown', () => {
  it('kills the whole process group, children and SIGTERM-ignoring processes included', async () => {
    const [port] = await freePorts(1);
    const spec = fakeSpec(port!, ['--child', '--ignore-term'], { stopGraceMs: 300 });
    const running = await startProcess(spec);
    const childPid = Number(/child-pid=(\d+)/.exec(readFileSync(spec.logFile, 'utf8'))?.[1]);
    expect(childPid).toBeGreaterThan(0);
    expect(processAlive(running.pid)).toBe(true);
    expect(processAlive(childPid)).toBe(true);
    await running.stop();
    expect(processAlive(running.pid)).toBe(false);
    expect(processAlive(childPid)).toBe(false);
    expect(processGroupAlive(running.pid)).toBe(false);
    await running.stop(); // idempotent
  });

  it('kills the emulator when the process that started it is SIGKILLed (watchdog)', async () => {
    const log = path.join(tmp, 'orphan.log');
    const parent = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(here, 'fixtures', 'orphan-parent.ts'), log],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    parent.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    expect(await until(() => /emulator-pid=\d+/.test(out), 20_000)).toBe(true);
    const emulatorPid = Number(/emulator-pid=(\d+)/.exec(out)![1]);
    const childPid = Number(/child-pid=(\d+)/.exec(readFileSync(log, 'utf8'))![1]);
    expect(processAlive(emulatorPid)).toBe(true);
    parent.kill('SIGKILL');
    expect(await until(() => !processGroupAlive(emulatorPid), 5_000)).toBe(true);
    expect(processAlive(emulatorPid)).toBe(false);
    expect(processAlive(childPid)).toBe(false);
  });
});
