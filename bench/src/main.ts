/**
 * `npm run bench`: polycloud against the native SDKs, side by side on the same client instance.
 *
 *   micro   the portable layer's CPU cost per call (memory adapter; S3Client with a stub handler)
 *   blob    get/put 4 KiB … 64 MiB at c=1 and c=8 on S3 (moto), GCS (fake-gcs-server), Azure Blob (Azurite)
 *   kv      get/set/getMany/increment/list on DynamoDB (moto), Bigtable emulator, Azure Table, memory
 *   queue   send/sendBatch and consume() throughput vs naive and hand-batched loops, e2e latency
 *   cold    import time of each adapter subpath vs its SDK client alone (fresh processes)
 *   memory  memory and speed of a streamed upload of unknown length (S3, GCS, Azure) vs the SDK's own
 *   local   the embedded default (file://, local://) next to the memory adapter
 *
 * Writes bench/results/<date>-<machine>.json (rows) and .md (tables). BENCH_QUICK=1 is the
 * ~1 minute run; BENCH_ONLY / BENCH_PROVIDERS pick sections and providers. Figures are printed,
 * never asserted on: the exit code says only whether the bench could run (`bench:check` judges).
 */
import os from 'node:os';
import { BlobServiceClient } from '@azure/storage-blob';
import { storageClient } from '@polycloud/gcp/storage';
import { BLOB_PROVIDERS } from './blob.js';
import { coldRows } from './cold.js';
import { log, MiB, progress, type Section, settingsFromEnv } from './common.js';
import { rand, startAzuriteOnDisk, stopAll, withEmulator } from './emulators.js';
import { KV_PROVIDERS } from './kv.js';
import { formatLocal, formatLocalProcesses, runLocal, runLocalProcesses } from './local.js';
import { formatMicro, microRows, runMicro } from './micro.js';
import { formatProfile, profilePortableLayer } from './profile.js';
import { QUEUE_PROVIDERS } from './queue.js';
import { rowsTable } from './report.js';
import { type Row, writeResults } from './results.js';
import { clientFor, createBenchBucket, removeBenchBucket, startS3 } from './s3env.js';
import {
  formatUploads,
  measureProvider,
  RAW_UPLOADER,
  type UploadResult,
  type UploadTarget,
  uploadRows,
} from './upload-memory.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// No metadata server here: the Google auth library would probe for one and warn.
process.env.METADATA_SERVER_DETECTION ??= 'none';

const TITLES: Record<Section, string> = {
  micro: 'Portable layer overhead, pure CPU',
  blob: 'Blob get/put: raw SDK vs polycloud Bucket (same client instance)',
  kv: 'Key-value: raw SDK vs polycloud KvStore (same client instance)',
  queue: 'Queues: polycloud vs naive and hand-batched SDK loops',
  cold: 'Cold start: import of an adapter subpath vs its SDK client alone',
  memory: 'Streamed upload of unknown length: memory and speed vs the SDK managed upload',
  local: 'The embedded default (file://, local://) next to memory',
};

async function main(): Promise<void> {
  const s = settingsFromEnv();
  const started = performance.now();
  const load = os.loadavg().map((x) => x.toFixed(2));
  const md: string[] = [];
  const conditions =
    `node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim() ?? '?'}), ` +
    `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, load average at start ${load.join(' ')}`;
  log(`polycloud bench${s.quick ? ' (BENCH_QUICK)' : ''}: ${conditions}`);
  md.push(
    `# polycloud bench ${new Date().toISOString()}${s.quick ? ' (BENCH_QUICK)' : ''}\n`,
    conditions,
    '',
  );
  const rows: Row[] = [];
  const section = (name: Section, got: readonly Row[], extra = '') => {
    rows.push(...got);
    const text = `\n## ${TITLES[name]}\n\n${got.length > 0 ? rowsTable(got) : ''}${extra ? `\n\n${extra}` : ''}\n`;
    log(text);
    md.push(text);
  };
  const failures: string[] = [];
  const guarded = async (name: string, body: () => Promise<void>) => {
    try {
      await body();
    } catch (err) {
      const msg = `${name}: ${err instanceof Error ? err.message : String(err)}`;
      failures.push(msg);
      process.stderr.write(`bench section failed: ${err instanceof Error ? (err.stack ?? msg) : msg}\n`);
    }
  };

  const stopOnSignal = () => {
    void stopAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  try {
    if (s.sections.has('micro') && s.providers.has('memory')) {
      await guarded('micro', async () => {
        progress('micro: memory adapter, driver vs portable layer');
        const memory = await runMicro(s, 'memory');
        progress('micro: S3Client with a stub HTTP handler, raw vs polycloud');
        const stub = await runMicro(s, 's3-stub');
        section(
          'micro',
          [...microRows(memory, 'memory'), ...microRows(stub, 's3-stub')],
          `${formatMicro(memory, 'memory')}\n\n${formatMicro(stub, 's3-stub')}`.replace(/^/gm, '    ') +
            `\n\n### CPU profile of the portable layer (memory adapter)\n\n${formatProfile(profilePortableLayer(s))}`,
        );
      });
    }
    if (s.sections.has('blob')) {
      const got: Row[] = [];
      for (const [p, run] of Object.entries(BLOB_PROVIDERS)) {
        if (!s.providers.has(p)) continue;
        await guarded(`blob ${p}`, async () => {
          progress(`blob: ${p}`);
          got.push(...(await run(s)));
        });
      }
      section('blob', got, 'ratio and CPU ratio: polycloud / raw; noise: lowest..highest ABBA block ratio.');
    }
    if (s.sections.has('kv')) {
      const got: Row[] = [];
      for (const [p, run] of Object.entries(KV_PROVIDERS)) {
        if (!s.providers.has(p)) continue;
        await guarded(`kv ${p}`, async () => {
          progress(`kv: ${p}`);
          got.push(...(await run(s)));
        });
      }
      section('kv', got);
    }
    if (s.sections.has('queue')) {
      const got: Row[] = [];
      for (const [p, run] of Object.entries(QUEUE_PROVIDERS)) {
        if (!s.providers.has(p)) continue;
        await guarded(`queue ${p}`, async () => {
          progress(`queue: ${p}`);
          got.push(...(await run(s)));
        });
      }
      section(
        'queue',
        got,
        `Messages of 1 KiB, consumer concurrency 16; ${s.queueMessages} messages per consume run, ` +
          `${s.queueNaiveMessages} for the naive loop${s.queueMessages < 20_000 ? " (sized for this 2-core machine, not the issue's 20,000; BENCH_QUEUE_MESSAGES)" : ''}. ` +
          'Unit µs/msg (lower is better): ratio < 1 means polycloud is faster. Latency: end to end, send to handler.',
      );
    }
    if (s.sections.has('cold')) {
      await guarded('cold', async () => {
        progress('cold start: fresh processes');
        section('cold', await coldRows(s));
      });
    }
    if (s.sections.has('memory')) {
      const results: UploadResult[] = [];
      const run = async (target: UploadTarget) => {
        const bytes = target.provider === 'gcp' ? s.uploadBytesGcs : s.uploadBytes;
        progress(
          `memory: streamed upload of ${bytes / MiB} MiB on ${target.provider}, polycloud vs ${RAW_UPLOADER[target.provider]} (fresh child each)`,
        );
        results.push(...(await measureProvider(s, target, bytes)));
      };
      if (s.providers.has('aws')) {
        await guarded('memory aws', async () => {
          const env = await startS3();
          try {
            const client = clientFor(env.target);
            const bucket = await createBenchBucket(client);
            await run({ provider: 'aws', s3: env.target, bucket });
            await removeBenchBucket(client, bucket, []);
            client.destroy();
          } finally {
            await env.stop();
          }
        });
      }
      if (s.providers.has('gcp')) {
        await guarded('memory gcp', () =>
          withEmulator('fake-gcs-server', async (e) => {
            const apiEndpoint = e.env.STORAGE_EMULATOR_HOST!;
            const projectId = e.env.GOOGLE_CLOUD_PROJECT ?? 'polycloud-test';
            const bucket = `pc-bench-${rand()}`;
            await storageClient({ apiEndpoint, projectId }).createBucket(bucket);
            await run({ provider: 'gcp', apiEndpoint, projectId, bucket });
          }),
        );
      }
      if (s.providers.has('azure')) {
        await guarded('memory azure', async () => {
          const e = await startAzuriteOnDisk();
          try {
            const connectionString = e.env.AZURE_STORAGE_CONNECTION_STRING!;
            const bucket = `pc-bench-${rand()}`;
            await BlobServiceClient.fromConnectionString(connectionString)
              .getContainerClient(bucket)
              .create();
            await run({ provider: 'azure', connectionString, bucket });
          } finally {
            await e.stop();
          }
        });
      }
      if (results.length > 0) {
        section(
          'memory',
          uploadRows(results),
          `    ${formatUploads(results).replace(/\n/g, '\n    ')}\n\npeak RSS / heap+buffers: sampled every 5 ms and ` +
            'on every 64 KiB source chunk, no forced GC (natural runs, ABBA order). live after GC: one more run per side ' +
            'forcing a full GC at every MiB produced (at most 128 MiB).',
        );
      }
    }
  } finally {
    await stopAll();
    process.off('SIGINT', stopOnSignal);
    process.off('SIGTERM', stopOnSignal);
  }
  if (s.sections.has('local')) {
    const rows = await runLocal(s);
    log('\n## The embedded default: local (file://, local:// on SQLite) next to memory, 4 KiB bodies\n');
    log(formatLocal(rows));
    log(
      '\nops/s: all calls of the cell over its wall time; p50/p99: per-call latency through the portable types.',
    );
    const mp = await runLocalProcesses(s);
    log('\n## The embedded default: several processes on one SQLite file\n');
    log(formatLocalProcesses(mp));
    log(
      '\nWall time from spawning the processes (tsx start-up included) to the last exit; exact: the counter ' +
        'ends at processes × increments / every message was received once.',
    );
  }
  const total = `total ${((performance.now() - started) / 1000).toFixed(1)} s, load average at end ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}${failures.length > 0 ? `; sections that could not run: ${failures.join('; ')}` : ''}`;
  log(`\n${total}`);
  md.push(`\n${total}\n`);
  const partial = [process.env.BENCH_ONLY, process.env.BENCH_PROVIDERS]
    .filter((x): x is string => Boolean(x))
    .join('-')
    .replace(/[^a-z0-9]+/gi, '-');
  const files = writeResults(rows, md.join('\n'), s.quick, partial || undefined);
  progress(`wrote ${files.json} and ${files.md}`);
  if (failures.length > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
