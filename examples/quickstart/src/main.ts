/**
 * Quick start: one piece of application code, any provider. The URLs below are the only thing
 * that changes between the local default, memory, AWS, Google Cloud and Azure:
 *
 *   UPLOADS_URL=s3://my-bucket JOBS_URL=sqs://jobs COUNTERS_URL=dynamodb://counters npm start
 *   UPLOADS_URL=mem://uploads JOBS_URL=mem://jobs COUNTERS_URL=mem://counters npm start
 *
 * By default everything is kept in ./.polycloud-data (POLYCLOUD_DATA names another folder):
 * uploads in a folder, jobs and counters in one SQLite file. Run it twice: the counters go on
 * counting from where the first run left them.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bytesCodec, isPolycloudError, openBucket, openKv, openQueue } from '@polycloud/core';
import './friendly-errors.js';

interface Job {
  readonly upload: string;
}

const dataDir = resolve(process.env.POLYCLOUD_DATA ?? '.polycloud-data');
const database = pathToFileURL(resolve(dataDir, 'app.db')).pathname;
const uploadsUrl = process.env.UPLOADS_URL ?? pathToFileURL(resolve(dataDir, 'uploads')).href;
const jobsUrl = process.env.JOBS_URL ?? `local://${database}?queue=jobs`;
const countersUrl = process.env.COUNTERS_URL ?? `local://${database}?table=counters&namespace=quickstart`;

await using uploads = await openBucket(uploadsUrl);
await using jobs = await openQueue<Job>(jobsUrl);
await using counters = await openKv(countersUrl);
// Fails fast with NOT_FOUND when the table is missing, before the consumer would retry forever.
await counters.get('documents');

// 1. Store three documents; the third only if nobody created it first.
for (const name of ['a.txt', 'b.txt']) {
  await uploads.put(`inbox/${name}`, `hello from ${name}`, {
    contentType: 'text/plain',
    metadata: { source: 'quickstart' },
  });
}
let created = 'inbox/c.txt created';
try {
  await uploads.put('inbox/c.txt', 'created once', { ifNoneMatch: '*' });
} catch (err) {
  if (!isPolycloudError(err, 'PRECONDITION_FAILED')) throw err;
  created = 'inbox/c.txt kept from an earlier run';
}
const run = (await counters.increment('runs')).value;

// 2. Queue a job per document.
const keys: string[] = [];
for await (const item of uploads.entries({ prefix: 'inbox/' })) keys.push(item.key);
const sent = await jobs.sendBatch(keys.map((upload) => ({ body: { upload } })));
// sendBatch answers per message; a queue that is missing fails every one of them, and waiting
// below for jobs that were never queued would never end.
for (const r of sent) if (!r.ok) throw r.error;

// 3. Work the queue: 4 handlers at a time, acked on success, retried on failure.
let processed = 0;
const consumer = jobs.consume(
  async (msg) => {
    const text = await uploads.getText(msg.body.upload);
    await counters.increment('bytes', text.length);
    await counters.increment('documents');
    processed++;
  },
  { concurrency: 4, waitSeconds: 1 },
);
while (processed < keys.length) await new Promise((r) => setTimeout(r, 10));
await consumer.stop();

const documents = (await counters.get('documents'))?.value;
const bytes = (await counters.get('bytes'))?.value;
console.log(`provider:   ${uploads.provider} (${uploadsUrl}, ${jobsUrl}, ${countersUrl})`);
console.log(`run:        #${run} against this store (run again: the counters keep counting)`);
console.log(`stored:     ${keys.join(', ')} (${created})`);
console.log(`queued:     ${sent.filter((r) => r.ok).length} jobs`);
console.log(`processed:  ${documents} documents, ${bytes} bytes in all runs`);
console.log(
  `left:       ${(await jobs.withCodec(bytesCodec).receive({ maxMessages: 10 })).length} messages in the queue`,
);
