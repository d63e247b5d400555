#!/usr/bin/env node
// polycloud-emulators install [--force] [id...] | start [--check] [--write-env FILE]
// The emulator harness as a command, for projects that have @polycloud/conformance installed.
import { importTs } from './load-ts.mjs';

const [command, ...rest] = process.argv.slice(2);
if (command === 'install') {
  const { main } = await importTs('../src/emulators/install.ts');
  process.exitCode = await main(rest);
} else if (command === 'start' || command === 'up') {
  const { main } = await importTs('../src/emulators/cli.ts');
  process.exitCode = await main(rest);
} else {
  console.log(
    [
      'usage: polycloud-emulators install [--force] [id...]   install the pinned emulators into ./.emulators',
      '       polycloud-emulators start [--check] [--write-env FILE]   start them (POLYCLOUD_EMULATORS selects) until Ctrl-C',
      '',
      'Examples:',
      '  npx polycloud-emulators install moto azurite',
      '  POLYCLOUD_EMULATORS=azurite npx polycloud-emulators start --write-env .emulators.env',
    ].join('\n'),
  );
  process.exitCode = command === undefined || command === '--help' || command === 'help' ? 0 : 2;
}
