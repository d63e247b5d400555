/**
 * Client-side throughput of a streamed upload without an emulator in the way: an in-process
 * HTTP server that answers the multipart calls like S3 (or the block calls like Azure Blob,
 * `SINK_PROVIDER=azure`) and discards the bytes, and the memory section's children (polycloud
 * Bucket.put vs lib-storage Upload / BlockBlobClient.uploadStream) against it, 3 ABBA groups
 * (`SINK_GROUPS`). `BENCH_UPLOAD_SOURCE` picks the source as in the memory section.
 *
 *   SINK_MIB=512 npx tsx --tsconfig bench/tsconfig.json bench/src/upload-sink.ts
 *   SINK_PROVIDER=azure BENCH_UPLOAD_SOURCE=filehandle npx tsx --tsconfig bench/tsconfig.json bench/src/upload-sink.ts
 */
import http from 'node:http';
import { azuriteConnectionString } from '../../conformance/src/emulators/catalog.js';
import { MiB, settingsFromEnv } from './common.js';
import { measureUpload, type UploadResult, type UploadTarget, uploadRows } from './upload-memory.js';

const sizes = new Map<string, number>();
const parts = new Map<string, number>();
let n = 0;
const server = http.createServer((req, res) => {
  const url = new URL(req.url!, 'http://x');
  const key = url.pathname;
  let got = 0;
  req.on('data', (c: Buffer) => {
    got += c.length;
  });
  req.on('end', () => {
    const q = url.searchParams;
    if (key.startsWith(AZURE_PATH)) {
      azure(req.method ?? 'GET', key, q, got, res);
      return;
    }
    if (req.method === 'POST' && q.has('uploads')) {
      const id = `u${n++}`;
      parts.set(id, 0);
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0"?><InitiateMultipartUploadResult><Bucket>b</Bucket><Key>${key.slice(3)}</Key><UploadId>${id}</UploadId></InitiateMultipartUploadResult>`,
      );
    } else if (req.method === 'PUT' && q.has('partNumber')) {
      parts.set(q.get('uploadId')!, (parts.get(q.get('uploadId')!) ?? 0) + got);
      res.writeHead(200, { etag: '"0123456789abcdef0123456789abcdef"' });
      res.end();
    } else if (req.method === 'PUT') {
      sizes.set(key, got);
      res.writeHead(200, { etag: '"0123456789abcdef0123456789abcdef"' });
      res.end();
    } else if (req.method === 'POST' && q.has('uploadId')) {
      sizes.set(key, parts.get(q.get('uploadId')!) ?? 0);
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0"?><CompleteMultipartUploadResult><Bucket>b</Bucket><Key>${key.slice(3)}</Key><ETag>"abc-2"</ETag></CompleteMultipartUploadResult>`,
      );
    } else if (req.method === 'HEAD') {
      res.writeHead(200, {
        'content-length': String(sizes.get(key) ?? 0),
        etag: '"abc-2"',
        'last-modified': new Date().toUTCString(),
      });
      res.end();
    } else if (req.method === 'DELETE') {
      res.writeHead(204);
      res.end();
    } else {
      res.writeHead(200);
      res.end();
    }
  });
});
const AZURE_PATH = '/devstoreaccount1/';
/** Azure Blob: Put Block, Put Block List, Get Properties, Delete; just what the children call. */
function azure(method: string, key: string, q: URLSearchParams, got: number, res: http.ServerResponse): void {
  const common = { 'x-ms-request-id': 'sink', 'x-ms-version': '2025-01-05' };
  const stamp = { etag: '"0x8DSINK"', 'last-modified': new Date().toUTCString() };
  if (method === 'PUT' && q.get('comp') === 'block') {
    parts.set(key, (parts.get(key) ?? 0) + got);
    res.writeHead(201, { ...common, 'x-ms-request-server-encrypted': 'true' });
  } else if (method === 'PUT' && q.get('comp') === 'blocklist') {
    sizes.set(key, parts.get(key) ?? 0);
    parts.delete(key);
    res.writeHead(201, { ...common, ...stamp, 'x-ms-request-server-encrypted': 'true' });
  } else if (method === 'PUT') {
    sizes.set(key, got);
    res.writeHead(201, { ...common, ...stamp });
  } else if (method === 'HEAD' || method === 'GET') {
    res.writeHead(200, {
      ...common,
      ...stamp,
      'content-length': String(sizes.get(key) ?? 0),
      'x-ms-blob-type': 'BlockBlob',
    });
  } else if (method === 'DELETE') {
    sizes.delete(key);
    res.writeHead(202, common);
  } else res.writeHead(200, common);
  res.end();
}

await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as { port: number }).port;
const s = settingsFromEnv();
const endpoint = `http://127.0.0.1:${port}`;
const s3Target = {
  provider: 'aws' as const,
  bucket: 'b',
  s3: {
    endpoint,
    region: 'us-east-1',
    accessKeyId: 'a',
    secretAccessKey: 'b',
    description: 'sink',
    source: 'sink',
  },
};
const target: UploadTarget =
  process.env.SINK_PROVIDER === 'azure'
    ? // Azurite's development account: the sink does not check signatures.
      {
        provider: 'azure',
        bucket: 'sink',
        connectionString: azuriteConnectionString(endpoint, endpoint, endpoint),
      }
    : s3Target;
const out: UploadResult[] = [];
for (let g = 0; g < Number(process.env.SINK_GROUPS ?? 3); g++)
  for (const u of ['raw', 'polycloud', 'polycloud', 'raw'] as const) {
    const r = await measureUpload(s, target, u, 'natural', Number(process.env.SINK_MIB ?? 512) * MiB);
    console.log(
      u,
      r.seconds.toFixed(2),
      's',
      (r.totalBytes / MiB / r.seconds).toFixed(0),
      'MiB/s CPU',
      r.cpuSeconds.toFixed(2),
      'RSS +',
      (r.peakRssGrowth / MiB).toFixed(1),
    );
    out.push(r);
  }
for (const row of uploadRows(out))
  console.log(
    row.operation,
    row.ratio.toFixed(3),
    row.noise.map((x) => x.toFixed(3)).join('..'),
    row.cpu ? `cpu ${row.cpu.ratio.toFixed(3)} ${row.cpu.noise.map((x) => x.toFixed(3)).join('..')}` : '',
    row.polycloud.toFixed(1),
    row.raw.toFixed(1),
  );
server.close();
