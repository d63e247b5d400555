/**
 * Quick start: one piece of application code, any provider. The URLs below are the only thing
 * that changes between memory, AWS, Google Cloud and Azure:
 *
 *   UPLOADS_URL=s3://my-bucket JOBS_URL=sqs://jobs COUNTERS_URL=dynamodb://counters npm start
 */
import { bytesCodec, openBucket, openKv, openQueue } from '@polycloud/core';
import './friendly-errors.js';

interface Job {
  readonly upload: string;
}

const uploadsUrl = process.env.UPLOADS_URL ?? 'mem://uploads';
const jobsUrl = process.env.JOBS_URL ?? 'mem://jobs';
const countersUrl = process.env.COUNTERS_URL ?? 'mem://counters?namespace=quickstart';

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
await uploads.put('inbox/c.txt', 'created once', { ifNoneMatch: '*' });

// 2. Queue a job per document.
const keys: string[] = [];
for await (const item of uploads.entries({ prefix: 'inbox/' })) keys.push(item.key);
const sent = await jobs.sendBatch(keys.map((upload) => ({ body: { upload } })));

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
console.log(`stored:     ${keys.join(', ')}`);
console.log(`queued:     ${sent.filter((r) => r.ok).length} jobs`);
console.log(`processed:  ${documents} documents, ${bytes} bytes`);
console.log(
  `left:       ${(await jobs.withCodec(bytesCodec).receive({ maxMessages: 10 })).length} messages in the queue`,
);
