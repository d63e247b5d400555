#!/usr/bin/env node
import { main } from './main.js';

const code = await main(process.argv.slice(2));
// SDK clients keep sockets and gRPC channels open; a CLI is done when its command is.
process.stdout.write('', () => process.exit(code));
