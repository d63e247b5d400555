#!/usr/bin/env node
// The installed command. It lives outside dist so that npm links it on `npm ci`, before the first
// build; the program itself is the compiled dist/bin.js.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(entry)) {
  console.error(
    'polycloud: INTERNAL: @polycloud/cli is not built (hint: run `npm run build` at the repository root)',
  );
  process.exit(1);
}
await import(entry.href);
