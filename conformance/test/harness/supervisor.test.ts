import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EmulatorUnavailableError, selectEndpoint, useEmulator } from '../../src/emulators/index.js';
import { freePorts } from '../../src/emulators/ports.js';
import { parseSelection, startEmulator, startEmulators } from '../../src/emulators/supervisor.js';
import type { EmulatorsContext } from '../../src/emulators/types.js';
import { EMULATOR_IDS } from '../../src/emulators/types.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'polycloud-supervisor-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** An environment with no emulator variables and an empty install directory. */
function bareEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  const dir = mkdtempSync(path.join(tmp, 'emulators-'));
  return { ...env, POLYCLOUD_EMULATORS_DIR: dir, POLYCLOUD_DOCKER: 'off', ...extra };
}

describe('POLYCLOUD_EMULATORS', () => {
  it('unset means every emulator, required', () => {
    expect(parseSelection(undefined)).toEqual({ optional: false, ids: EMULATOR_IDS, raw: '' });
    expect(parseSelection('  ')).toMatchObject({ optional: false, ids: EMULATOR_IDS });
  });
  it('a list selects a subset (in canonical order), `optional` relaxes, `none` starts nothing', () => {
    expect(parseSelection('azurite,moto')).toMatchObject({ optional: false, ids: ['moto', 'azurite'] });
    expect(parseSelection('optional')).toMatchObject({ optional: true, ids: EMULATOR_IDS });
    expect(parseSelection('optional, pstest')).toMatchObject({ optional: true, ids: ['pstest'] });
    expect(parseSelection('none')).toMatchObject({ ids: [] });
  });
  it('rejects unknown words', () => {
    expect(() => parseSelection('moto,motoserver')).toThrow(/unknown word "motoserver"/);
  });
});

describe('nothing available', () => {
  it('reports "missing" and names `npm run emulators:install`', async () => {
    const handle = await startEmulator('moto', { env: bareEnv() });
    expect(handle.status.state).toBe('missing');
    expect(handle.status.reason).toContain('npm run emulators:install');
    expect(handle.status.reason).toContain('AWS_ENDPOINT_URL');
    await handle.stop();
  });

  it('treats a stamp for another version as outdated, not installed', async () => {
    const env = bareEnv();
    mkdirSync(path.join(env.POLYCLOUD_EMULATORS_DIR!, 'stamps'), { recursive: true });
    writeFileSync(
      path.join(env.POLYCLOUD_EMULATORS_DIR!, 'stamps', 'dynalite.json'),
      JSON.stringify({ id: 'dynalite', version: '0.0.1', fingerprint: 'x', installedAt: '', installMs: 1 }),
    );
    const handle = await startEmulator('dynalite', { env });
    expect(handle.status.state).toBe('missing');
    expect(handle.status.reason).toMatch(/outdated: installed 0\.0\.1, pinned 4\.0\.0/);
    expect(handle.status.reason).toContain('npm run emulators:install');
  });

  it('useEmulator throws the install message; only `optional` turns it into "not run"', () => {
    const status = {
      id: 'pstest' as const,
      version: 'v2',
      state: 'missing' as const,
      reason: 'pstest is not available: not installed. Run `npm run emulators:install`',
    };
    const required: EmulatorsContext = { optional: false, statuses: [status] };
    expect(() => selectEndpoint(required, 'pstest')).toThrow(EmulatorUnavailableError);
    expect(() => selectEndpoint(required, 'pstest')).toThrow(/npm run emulators:install/);
    expect(selectEndpoint({ optional: true, statuses: [status] }, 'pstest')).toBeUndefined();
    const notSelected: EmulatorsContext = {
      optional: false,
      statuses: [{ ...status, state: 'not-selected', reason: 'not selected by POLYCLOUD_EMULATORS=moto' }],
    };
    expect(selectEndpoint(notSelected, 'pstest')).toBeUndefined();
    // A broken emulator fails even under `optional`.
    const failed: EmulatorsContext = {
      optional: true,
      statuses: [{ ...status, state: 'failed', reason: 'pstest exited before it was ready' }],
    };
    expect(() => selectEndpoint(failed, 'pstest')).toThrow(/exited before it was ready/);
  });
});

describe('environment source (a) in the supervisor', () => {
  it('uses the named endpoint and starts nothing', async () => {
    // Something that answers HTTP, standing in for an already running S3/SQS/DynamoDB server.
    const server = http.createServer((_req, res) => res.end('<ok/>'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const handle = await startEmulator('moto', { env: bareEnv({ AWS_ENDPOINT_URL: url }) });
      expect(handle.status.state).toBe('ready');
      expect(handle.status.endpoint?.source).toBe('env');
      expect(handle.status.endpoint?.env.AWS_ENDPOINT_URL).toBe(url);
      expect(handle.status.pid).toBeUndefined();
    } finally {
      server.close();
    }
  });

  it('fails clearly when the named endpoint does not answer', async () => {
    const [port] = await freePorts(1);
    const handle = await startEmulator('pstest', {
      env: bareEnv({ PUBSUB_EMULATOR_HOST: `127.0.0.1:${port}` }),
      readyTimeoutMs: 500,
    });
    expect(handle.status.state).toBe('failed');
    expect(handle.status.reason).toMatch(/PUBSUB_EMULATOR_HOST is set, but nothing answers there/);
  });

  it('reports an unusable variable instead of guessing', async () => {
    const handle = await startEmulator('fake-gcs-server', {
      env: bareEnv({ STORAGE_EMULATOR_HOST: '127.0.0.1:4443' }),
    });
    expect(handle.status.state).toBe('failed');
    expect(handle.status.reason).toMatch(/must include the scheme/);
  });
});

describe('startEmulators', () => {
  it('reports every emulator, marking unselected ones', async () => {
    const run = await startEmulators(parseSelection('none'), { env: bareEnv() });
    expect(run.statuses.map((s) => s.id)).toEqual(EMULATOR_IDS);
    expect(run.statuses.every((s) => s.state === 'not-selected')).toBe(true);
    await run.stop();
  });
});

describe('global setup', () => {
  it('provides a status for every emulator to the workers', () => {
    // Whatever is installed here: the harness must at least say something about each one.
    for (const id of EMULATOR_IDS) {
      try {
        useEmulator(id);
      } catch (err) {
        expect(err).toBeInstanceOf(EmulatorUnavailableError);
        expect((err as Error).message.length).toBeGreaterThan(10);
      }
    }
  });
});
