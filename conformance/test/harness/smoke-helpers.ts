import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, type TestContext, vi } from 'vitest';
import {
  EMULATOR_ENV_VARIABLES,
  type EmulatorEndpoint,
  type EmulatorId,
  emulatorNotRunReason,
  useEmulator,
} from '../../src/emulators/index.js';

/** A name no other run uses: lower-case letters and digits. */
export const uniqueName = (prefix: string) => `${prefix}${randomBytes(5).toString('hex')}`;

/**
 * For a describe block: take the emulator's endpoint and make its `env` the whole story for the
 * SDKs in this worker (every other emulator variable is removed), as an adapter would see it.
 * useEmulator throws (failing the block) when the emulator is missing; under
 * POLYCLOUD_EMULATORS=optional, `endpoint(ctx)` skips the test as "not run".
 */
export function emulatorForBlock(id: EmulatorId): { endpoint(ctx: TestContext): EmulatorEndpoint } {
  let endpoint: EmulatorEndpoint | undefined;
  beforeAll(() => {
    endpoint = useEmulator(id);
    if (!endpoint) return;
    for (const name of EMULATOR_ENV_VARIABLES) vi.stubEnv(name, undefined);
    for (const [name, value] of Object.entries(endpoint.env)) vi.stubEnv(name, value);
  });
  afterAll(() => {
    vi.unstubAllEnvs();
  });
  return {
    endpoint(ctx) {
      if (!endpoint) return ctx.skip(`not run: ${emulatorNotRunReason(id)}`);
      return endpoint;
    },
  };
}
