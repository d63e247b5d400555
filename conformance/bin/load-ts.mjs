// Loads a harness module: the built JavaScript when the package is installed (dist/ ships in
// the tarball), else the TypeScript source through tsx (a working copy of the repository).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export async function importTs(relative) {
  const built = relative.replace(/^\.\.\/src\//, '../dist/').replace(/\.ts$/, '.js');
  if (existsSync(fileURLToPath(new URL(built, import.meta.url))) && !process.env.POLYCLOUD_FROM_SOURCE) {
    return import(built);
  }
  let api;
  try {
    api = await import('tsx/esm/api');
  } catch {
    console.error(
      '@polycloud/conformance: dist/ is missing and tsx is not installed; run `npm ci` at the repository root.',
    );
    process.exit(2);
  }
  return api.tsImport(relative, import.meta.url);
}
