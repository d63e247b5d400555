import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// Tests run against the TypeScript sources, so `npm test` needs no build step first.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@polycloud\/core$/, replacement: here('./packages/core/src/index.ts') },
      { find: /^@polycloud\/core\/driver$/, replacement: here('./packages/core/src/driver/index.ts') },
      { find: /^@polycloud\/core\/driver\/base$/, replacement: here('./packages/core/src/driver/base.ts') },
      { find: /^@polycloud\/core\/(blob|queue|kv)$/, replacement: here('./packages/core/src/$1/index.ts') },
      { find: /^@polycloud\/memory$/, replacement: here('./adapters/memory/src/index.ts') },
      { find: /^@polycloud\/local$/, replacement: here('./adapters/local/src/index.ts') },
      { find: /^@polycloud\/conformance$/, replacement: here('./conformance/src/index.ts') },
      {
        find: /^@polycloud\/conformance\/emulators$/,
        replacement: here('./conformance/src/emulators/index.ts'),
      },
      {
        find: /^@polycloud\/(aws|gcp|azure)\/([a-z0-9]+)$/,
        replacement: here('./adapters/$1/src/$2/index.ts'),
      },
    ],
  },
  test: {
    include: [
      'packages/*/test/**/*.test.ts',
      'adapters/*/test/**/*.test.ts',
      'conformance/test/**/*.test.ts',
      'examples/*/test/**/*.test.ts',
    ],
    globalSetup: ['./conformance/src/emulators/global-setup.ts'],
    // No cloud metadata server exists here: without this, Google's auth library probes for one
    // (seconds per new client under load) before every emulator call that carries no credentials.
    env: { METADATA_SERVER_DETECTION: 'none' },
    pool: 'forks',
    maxWorkers: 4,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
