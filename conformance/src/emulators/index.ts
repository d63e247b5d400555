/**
 * What test files use. Emulators are started once per run by global-setup.ts (main vitest
 * process); test workers read the result here.
 *
 *   const aws = useEmulator('moto');           // throws "... run `npm run emulators:install`" when missing
 *   if (!aws) return ctx.skip(emulatorNotRunReason('moto'));  // only under POLYCLOUD_EMULATORS=optional
 *   new S3Client({ endpoint: aws.env.AWS_ENDPOINT_URL, forcePathStyle: true, ... })
 */
import { inject } from 'vitest';
import { PROVIDE_KEY } from './provided.js';
import { INSTALL_COMMAND } from './supervisor.js';
import type { EmulatorEndpoint, EmulatorId, EmulatorStatus, EmulatorsContext } from './types.js';

export { EMULATOR_ENV_VARIABLES, ENV_SOURCE_VARIABLES, type EnvVariableMapping } from './env-source.js';
export { EMULATOR_GAPS, type EmulatorGap, findGap } from './gaps.js';
export { findLambdaRic, findLambdaRie, lambdaRiePath, RUNTIME_TOOLS, type RuntimeTool } from './runtimes.js';
export { INSTALL_COMMAND } from './supervisor.js';
export * from './types.js';

/** An emulator a test needs is not available; the message says what to install. */
export class EmulatorUnavailableError extends Error {
  override readonly name = 'EmulatorUnavailableError';
  constructor(
    readonly emulator: EmulatorId,
    message: string,
  ) {
    super(message);
  }
}

function context(): EmulatorsContext | undefined {
  try {
    return inject(PROVIDE_KEY);
  } catch {
    return undefined; // not inside a vitest worker
  }
}

function requireContext(id: EmulatorId): EmulatorsContext {
  const ctx = context();
  if (!ctx) {
    throw new EmulatorUnavailableError(
      id,
      `emulator harness not set up: vitest.config.ts must list conformance/src/emulators/global-setup.ts ` +
        `in test.globalSetup (needed for ${id})`,
    );
  }
  return ctx;
}

/** Start-up and install times, sources and endpoints of every emulator (all, or one). */
export function emulatorStatus(): readonly EmulatorStatus[];
export function emulatorStatus(id: EmulatorId): EmulatorStatus | undefined;
export function emulatorStatus(id?: EmulatorId): readonly EmulatorStatus[] | EmulatorStatus | undefined {
  const statuses = context()?.statuses ?? [];
  return id === undefined ? statuses : statuses.find((s) => s.id === id);
}

/**
 * The endpoint of emulator `id`.
 * - ready: returns it;
 * - missing: throws EmulatorUnavailableError naming `npm run emulators:install`, so the tests
 *   for that service FAIL; under POLYCLOUD_EMULATORS=optional it returns undefined instead;
 * - failed (installed or named but did not answer): throws, with the start failure and log;
 * - not selected (POLYCLOUD_EMULATORS lists other emulators): returns undefined.
 * On undefined the caller reports its tests "not run" (never passed), with
 * `emulatorNotRunReason(id)`.
 */
export function useEmulator(id: EmulatorId): EmulatorEndpoint | undefined {
  return selectEndpoint(requireContext(id), id);
}

/** useEmulator's decision, given the provided context (pure; exported for tests). */
export function selectEndpoint(ctx: EmulatorsContext, id: EmulatorId): EmulatorEndpoint | undefined {
  const status = ctx.statuses.find((s) => s.id === id);
  if (status?.state === 'ready' && status.endpoint) return status.endpoint;
  if (status?.state === 'not-selected') return undefined;
  // `optional` forgives an emulator that is not there, never one that is there but broken.
  if (ctx.optional && status?.state === 'missing') return undefined;
  throw new EmulatorUnavailableError(
    id,
    status?.reason ?? `emulator ${id} is not available: run \`${INSTALL_COMMAND}\``,
  );
}

/** Why `useEmulator(id)` returned undefined: the text to report with "not run". */
export function emulatorNotRunReason(id: EmulatorId): string {
  const status = emulatorStatus(id);
  if (!status) return `emulator ${id}: no status (global setup missing?)`;
  if (status.state === 'not-selected') return `emulator ${id} ${status.reason ?? 'not selected'}`;
  return `emulator ${id} unavailable, allowed by POLYCLOUD_EMULATORS=optional: ${status.reason ?? status.state}`;
}
