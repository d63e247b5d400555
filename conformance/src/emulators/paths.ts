import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findRepoRoot } from '../report.js';
import type { EmulatorId } from './types.js';

// This file lives in conformance/src/emulators, or dist/emulators once built and installed from
// node_modules: the package root is two levels up either way, and the pins ship inside it.
const here = path.dirname(fileURLToPath(import.meta.url));
const packageRoot = path.resolve(here, '..', '..');

/**
 * The project the harness works for: the nearest workspace root at or above the working
 * directory, else the working directory itself (an application with @polycloud/conformance in
 * node_modules). `.emulators/` and `reports/` live there, never inside node_modules.
 */
export function projectRoot(cwd: string = process.cwd()): string {
  return findRepoRoot(cwd);
}

/** Where `npm run emulators:install` puts everything (gitignored). POLYCLOUD_EMULATORS_DIR overrides it. */
export function emulatorsDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.POLYCLOUD_EMULATORS_DIR;
  return dir ? path.resolve(dir) : path.join(projectRoot(), '.emulators');
}

/** Emulator sources shipped with the package: versions.json, the pstest main, lock files. */
export const emulatorSourcesDir: string = path.join(packageRoot, 'emulators');

/** Process logs: reports/emulators/<id>.log under the project root. */
export const emulatorLogsDir: string = path.join(projectRoot(), 'reports', 'emulators');

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
