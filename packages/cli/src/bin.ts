#!/usr/bin/env node
import { main } from './main.js';

// google-auth-library probes the GCE metadata server for a project id and warns when it is
// absent (always, against the emulators); the warning says nothing the user can act on.
const emit = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const name = typeof warning === 'string' ? rest[0] : warning.name;
  if (
    name === 'MetadataLookupWarning' ||
    (typeof rest[0] === 'object' && (rest[0] as { type?: string })?.type === 'MetadataLookupWarning')
  )
    return;
  (emit as (w: string | Error, ...r: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

const code = await main(process.argv.slice(2));
// SDK clients keep sockets and gRPC channels open; a CLI is done when its command is.
process.stdout.write('', () => process.exit(code));
