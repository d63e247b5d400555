/**
 * Turns an uncaught NOT_FOUND (a bucket, queue or table that was never created) into one line
 * that says what is missing and the command that creates it, instead of a stack dump.
 * Imported for its side effect by main.ts; any other error keeps Node's default report.
 */
import { isPolycloudError } from '@polycloud/core';

/** The variables the quickstart reads its URLs from, by service. */
const URL_VARIABLES: Readonly<Record<string, readonly string[]>> = {
  blob: ['UPLOADS_URL'],
  queue: ['JOBS_URL'],
  kv: ['COUNTERS_URL'],
};

process.on('uncaughtException', (err) => {
  // A missing blob key on a read is the application's business; a NOT_FOUND anywhere else means
  // the bucket, queue or table itself is missing (kv reads return undefined for missing keys).
  const e = err as { operation?: string; service?: string };
  const keyRead = e.service === 'blob' && /^(get|head)/.test(e.operation ?? '');
  if (!isPolycloudError(err, 'NOT_FOUND') || (keyRead && err.resource?.key !== undefined)) {
    // Not a missing resource: report it exactly as Node would have.
    console.error(err);
    process.exit(1);
  }
  const fromEnv = (URL_VARIABLES[err.service ?? ''] ?? []).map((v) => process.env[v]).find(Boolean);
  const name = err.resource?.name ?? 'the resource';
  // The URL without the kv namespace, which `polycloud create` does not need.
  const url = fromEnv?.replace(/([?&])namespace=[^&]*&?/, '$1').replace(/[?&]$/, '');
  const what = err.service === 'blob' ? 'bucket' : err.service === 'queue' ? 'queue' : 'table';
  console.error(
    `quickstart: the ${what} "${name}"${url ? ` (${url})` : ''} does not exist (NOT_FOUND). ` +
      `Create it with: npx polycloud create ${url ? `'${url}'` : '<url>'}`,
  );
  process.exit(2);
});
