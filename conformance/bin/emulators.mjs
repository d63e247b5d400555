#!/usr/bin/env node
// npm run emulators: starts the emulators (POLYCLOUD_EMULATORS may select some), prints
// `export VAR=...` lines for another shell, and stops them all on Ctrl-C.
import { importTs } from './load-ts.mjs';

const { main } = await importTs('../src/emulators/cli.ts');
process.exitCode = await main(process.argv.slice(2));
