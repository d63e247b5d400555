/**
 * `npm run bench`: polycloud against the native SDK.
 *
 *   1. micro   the portable layer's CPU cost per call (memory adapter: driver vs Bucket/KvStore)
 *   2. s3      put/get 4 KiB … 16 MiB at concurrency 1 and 8 on moto, raw S3Client vs Bucket
 *   3. memory  peak memory of a streamed upload of unknown length, polycloud vs lib-storage
 *   4. local   the embedded default (file://, local://) next to the memory adapter
 *
 * BENCH_QUICK=1 is a ~30 s smoke run; BENCH_ONLY=micro,s3,memory,local picks sections. Figures are
 * printed, never asserted on: the exit code says only whether the bench could run.
 */
import os from 'node:os';
import { log, MiB, progress, settingsFromEnv } from './common.js';
import { formatLocal, formatLocalProcesses, runLocal, runLocalProcesses } from './local.js';
import { formatMicro, runMicro } from './micro.js';
import { formatThroughput, runThroughput } from './s3-throughput.js';
import { clientFor, createBenchBucket, removeBenchBucket, type S3Env, startS3 } from './s3env.js';
import { formatUploads, measureUpload, type UploadResult } from './upload-memory.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<void> {
  const s = settingsFromEnv();
  const started = performance.now();
  const load = os.loadavg().map((x) => x.toFixed(2));
  log(
    `polycloud bench${s.quick ? ' (BENCH_QUICK)' : ''}: node ${process.version}, ${os.cpus().length} CPUs ` +
      `(${os.cpus()[0]?.model.trim() ?? '?'}), load average ${load.join(' ')}`,
  );

  if (s.sections.has('micro')) {
    progress('micro: memory adapter, driver vs portable layer');
    const memory = await runMicro(s, 'memory');
    log('\n## Portable layer overhead, pure CPU: memory adapter, sequential calls\n');
    log(formatMicro(memory, 'memory'));
    progress('micro: S3Client with a stub HTTP handler, raw vs polycloud');
    const stub = await runMicro(s, 's3-stub');
    log('\n## polycloud over the S3 SDK, pure CPU: same S3Client, HTTP handler answers in process\n');
    log(formatMicro(stub, 's3-stub'));
    log(
      '\nops/s: wall time over all rounds. CPU µs: process CPU time per call, median over alternating ' +
        'rounds; overhead: median of the per-round (polycloud − baseline) with its range; CPU ratio: ' +
        'median of the per-round polycloud / baseline.',
    );
  }

  if (s.sections.has('s3') || s.sections.has('memory')) {
    progress('starting moto through the emulator harness (or using AWS_ENDPOINT_URL)');
    let env: S3Env | undefined;
    const stopOnSignal = () => {
      void (env?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
    };
    process.once('SIGINT', stopOnSignal);
    process.once('SIGTERM', stopOnSignal);
    try {
      env = await startS3();
      log(`\nS3 endpoint: ${env.target.description} [source: ${env.target.source}]`);
      const client = clientFor(env.target);
      const bucket = await createBenchBucket(client);
      const keys: string[] = [];
      try {
        if (s.sections.has('s3')) {
          const got = await runThroughput(s, client, bucket);
          keys.push(...got.keys);
          log('\n## S3 put/get: raw @aws-sdk/client-s3 vs polycloud Bucket (same client instance)\n');
          log(formatThroughput(got.rows));
          log(
            '\nratio = polycloud time per op / raw time per op (1.000 = same; > 1 polycloud slower); ' +
              'pair ratios: one per ABBA block. Latencies per operation, including queueing at concurrency 8. ' +
              'CPU µs/op: this process only (moto runs in its own).',
          );
        }
        if (s.sections.has('memory')) {
          const results: UploadResult[] = [];
          for (const mode of ['natural', 'gc-probed'] as const) {
            for (const uploader of ['polycloud', 'lib-storage'] as const) {
              progress(`streamed upload of ${s.uploadBytes / MiB} MiB through ${uploader}, ${mode} (child)`);
              results.push(await measureUpload(s, env.target, bucket, uploader, mode));
            }
          }
          log('\n## Memory of a streamed upload of unknown length (fresh process each)\n');
          log(formatUploads(results));
          log(
            '\npeak RSS / heap+buffers: sampled every 5 ms and on every 64 KiB source chunk, no forced GC ' +
              '(includes garbage V8 has not collected yet). live after GC: a second run that forces a full ' +
              'GC before sampling at every MiB produced. bound = what polycloud documents.',
          );
        }
      } finally {
        await removeBenchBucket(client, bucket, keys);
        client.destroy();
      }
    } finally {
      await env?.stop();
      process.off('SIGINT', stopOnSignal);
      process.off('SIGTERM', stopOnSignal);
    }
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
  log(`\ntotal ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
