import { createRequire } from 'node:module';

/**
 * Node built-ins through `require`, not `import`: an ESM import of a CommonJS built-in reads
 * every export to build its namespace, which runs the lazy getters (`node:http` loads undici,
 * ~30 ms; `node:crypto` loads WebCrypto, ~5 ms). The SDKs `require` the same modules, so
 * through `require` they cost nothing extra at start-up.
 */
export const requireBuiltin = createRequire(import.meta.url);
