// Resolve hooks for child processes of the process-level conformance tests: the same
// @polycloud/* → TypeScript source mapping as vitest.config.ts, so children run the code under
// test without a build step (tsx, registered first, loads the .ts files).
const root = new URL('../../../', import.meta.url);
const src = (p) => new URL(p, root).href;

export async function resolve(specifier, context, nextResolve) {
  if (specifier === '@polycloud/core') return nextResolve(src('packages/core/src/index.ts'), context);
  if (specifier === '@polycloud/core/driver')
    return nextResolve(src('packages/core/src/driver/index.ts'), context);
  if (specifier === '@polycloud/core/driver/base')
    return nextResolve(src('packages/core/src/driver/base.ts'), context);
  const core = /^@polycloud\/core\/(blob|queue|kv)$/.exec(specifier);
  if (core) return nextResolve(src(`packages/core/src/${core[1]}/index.ts`), context);
  if (specifier === '@polycloud/memory') return nextResolve(src('adapters/memory/src/index.ts'), context);
  if (specifier === '@polycloud/local') return nextResolve(src('adapters/local/src/index.ts'), context);
  const m = /^@polycloud\/(aws|gcp|azure)\/([a-z0-9]+)$/.exec(specifier);
  if (m) {
    return nextResolve(src(`adapters/${m[1]}/src/${m[2]}/index.ts`), context);
  }
  return nextResolve(specifier, context);
}
