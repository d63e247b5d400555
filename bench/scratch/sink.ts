import http from 'node:http';
const sizes = new Map<string, number>();
const parts = new Map<string, number>();
let n = 0;
const server = http.createServer((req, res) => {
  const url = new URL(req.url!, 'http://x');
  const key = url.pathname;
  let got = 0;
  req.on('data', (c: Buffer) => { got += c.length; });
  req.on('end', () => {
    const q = url.searchParams;
    if (q.get('comp') === 'block') { parts.set(key, (parts.get(key) ?? 0) + got); res.writeHead(201, { 'x-ms-request-id': 'r', 'x-ms-version': '2025-01-05', 'x-ms-request-server-encrypted': 'true' }); return res.end(); }
    if (q.get('comp') === 'blocklist') { sizes.set(key, parts.get(key) ?? 0); parts.set(key, 0); res.writeHead(201, { etag: '"0x8D"', 'last-modified': new Date().toUTCString(), 'x-ms-request-id': 'r', 'x-ms-version': '2025-01-05' }); return res.end(); }
    if (key.startsWith('/devstoreaccount1') && (req.method === 'HEAD' || req.method === 'GET')) { res.writeHead(200, { 'content-length': String(sizes.get(key) ?? 0), etag: '"0x8D"', 'last-modified': new Date().toUTCString(), 'x-ms-blob-type': 'BlockBlob' }); return res.end(); }
    if (key.startsWith('/devstoreaccount1') && req.method === 'PUT') { sizes.set(key, got); res.writeHead(201, { etag: '"0x8D"', 'last-modified': new Date().toUTCString() }); return res.end(); }
    if (req.method === 'POST' && q.has('uploads')) {
      const id = `u${n++}`; parts.set(id, 0);
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(`<?xml version="1.0"?><InitiateMultipartUploadResult><Bucket>b</Bucket><Key>${key.slice(3)}</Key><UploadId>${id}</UploadId></InitiateMultipartUploadResult>`);
    } else if (req.method === 'PUT' && q.has('partNumber')) {
      parts.set(q.get('uploadId')!, (parts.get(q.get('uploadId')!) ?? 0) + got);
      res.writeHead(200, { etag: '"0123456789abcdef0123456789abcdef"' }); res.end();
    } else if (req.method === 'PUT') { sizes.set(key, got); res.writeHead(200, { etag: '"0123456789abcdef0123456789abcdef"' }); res.end(); }
    else if (req.method === 'POST' && q.has('uploadId')) {
      sizes.set(key, parts.get(q.get('uploadId')!) ?? 0);
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(`<?xml version="1.0"?><CompleteMultipartUploadResult><Bucket>b</Bucket><Key>${key.slice(3)}</Key><ETag>"abc-2"</ETag></CompleteMultipartUploadResult>`);
    } else if (req.method === 'HEAD') {
      res.writeHead(200, { 'content-length': String(sizes.get(key) ?? 0), etag: '"abc-2"', 'last-modified': new Date().toUTCString() }); res.end();
    } else { res.writeHead(200); res.end(); }
  });
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => console.log('port', (server.address() as { port: number }).port));
