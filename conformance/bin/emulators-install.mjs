#!/usr/bin/env node
// npm run emulators:install [-- [--force] [id...]]: installs the pinned emulators into .emulators/.
import { importTs } from './load-ts.mjs';

const { main } = await importTs('../src/emulators/install.ts');
process.exitCode = await main(process.argv.slice(2));
