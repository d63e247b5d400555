/**
 * Install stamps: .emulators/stamps/<id>.json records what was installed (version and a
 * fingerprint of the repository files that pin it) and how long it took. The installer skips an
 * emulator whose stamp matches; the supervisor refuses an outdated one.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { emulatorSourcesDir, emulatorsDir, pinnedVersions } from './paths.js';
import type { EmulatorId } from './types.js';

/** Repository files (relative to conformance/emulators) whose content pins each emulator. */
export const PIN_FILES: Readonly<Record<EmulatorId, readonly string[]>> = {
  moto: ['moto/requirements.txt'],
  elasticmq: ['elasticmq/pom.xml'],
  dynalite: ['dynalite/package.json', 'dynalite/package-lock.json'],
  localstack: ['localstack/requirements.txt'],
  'fake-gcs-server': [],
  pstest: ['pstest/main.go', 'pstest/go.mod', 'pstest/go.sum'],
  'bigtable-emulator': [],
  azurite: ['azurite/package.json', 'azurite/package-lock.json'],
};

export interface InstallStamp {
  readonly id: EmulatorId;
  readonly version: string;
  readonly fingerprint: string;
  readonly installedAt: string;
  readonly installMs: number;
}

/** Hash of the pinned version and the pin files: changes whenever a reinstall is needed. */
export function fingerprint(id: EmulatorId): string {
  const hash = createHash('sha256');
  hash.update(`${id}@${pinnedVersions().emulators[id].version}\n`);
  for (const file of PIN_FILES[id]) {
    hash.update(`${file}\n`);
    hash.update(readFileSync(path.join(emulatorSourcesDir, file)));
  }
  return hash.digest('hex').slice(0, 16);
}

export function stampFile(id: EmulatorId, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(emulatorsDir(env), 'stamps', `${id}.json`);
}

export function readStamp(id: EmulatorId, env: NodeJS.ProcessEnv = process.env): InstallStamp | undefined {
  const file = stampFile(id, env);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as InstallStamp;
  } catch {
    return undefined;
  }
}

export function writeStamp(
  id: EmulatorId,
  installMs: number,
  env: NodeJS.ProcessEnv = process.env,
): InstallStamp {
  const stamp: InstallStamp = {
    id,
    version: pinnedVersions().emulators[id].version,
    fingerprint: fingerprint(id),
    installedAt: new Date().toISOString(),
    installMs,
  };
  mkdirSync(path.dirname(stampFile(id, env)), { recursive: true });
  writeFileSync(stampFile(id, env), `${JSON.stringify(stamp, null, 2)}\n`);
  return stamp;
}

export type InstallState =
  | { readonly state: 'installed'; readonly stamp: InstallStamp }
  | { readonly state: 'outdated'; readonly stamp: InstallStamp; readonly reason: string }
  | { readonly state: 'absent'; readonly reason: string };

/** Whether the pinned version of `id` is installed; `marker` is a file the install must have produced. */
export function installState(
  id: EmulatorId,
  marker: string,
  env: NodeJS.ProcessEnv = process.env,
): InstallState {
  const stamp = readStamp(id, env);
  if (!stamp)
    return {
      state: 'absent',
      reason: `not installed (no ${path.relative(process.cwd(), stampFile(id, env))})`,
    };
  const pinned = pinnedVersions().emulators[id].version;
  if (stamp.version !== pinned) {
    return { state: 'outdated', stamp, reason: `installed ${stamp.version}, pinned ${pinned}` };
  }
  if (stamp.fingerprint !== fingerprint(id)) {
    return { state: 'outdated', stamp, reason: `installed ${stamp.version} from older pin files` };
  }
  if (!existsSync(marker))
    return { state: 'outdated', stamp, reason: `stamp present but ${marker} is missing` };
  return { state: 'installed', stamp };
}
