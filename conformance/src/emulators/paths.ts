import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EmulatorId } from './types.js';

// This file lives in conformance/src/emulators (or conformance/dist/emulators once built):
// the repository root is three levels up either way.
const here = path.dirname(fileURLToPath(import.meta.url));

/** The repository root. */
export const repoRoot: string = path.resolve(here, '..', '..', '..');

/** Where `npm run emulators:install` puts everything (gitignored). POLYCLOUD_EMULATORS_DIR overrides it. */
export function emulatorsDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.POLYCLOUD_EMULATORS_DIR;
  return dir ? path.resolve(dir) : path.join(repoRoot, '.emulators');
}

/** Emulator sources kept in the repository: versions.json, the pstest main, lock files. */
export const emulatorSourcesDir: string = path.join(repoRoot, 'conformance', 'emulators');

/** Process logs: reports/emulators/<id>.log. */
export const emulatorLogsDir: string = path.join(repoRoot, 'reports', 'emulators');

export interface PinnedEmulator {
  readonly version: string;
  readonly package: string;
  readonly registry: string;
  readonly lock: string;
}

export interface VersionsFile {
  readonly emulators: Readonly<Record<EmulatorId, PinnedEmulator>>;
  /** Image per emulator id for the testcontainers path (absent: no container for that one). */
  readonly containers: Readonly<Partial<Record<EmulatorId, string>>>;
}

let versionsCache: VersionsFile | undefined;

/** conformance/emulators/versions.json, the one list of pinned versions. */
export function pinnedVersions(): VersionsFile {
  versionsCache ??= JSON.parse(
    readFileSync(path.join(emulatorSourcesDir, 'versions.json'), 'utf8'),
  ) as VersionsFile;
  return versionsCache;
}
