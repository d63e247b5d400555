import type { IncomingMessage, ServerResponse } from 'node:http';
import { methodHasBody, responseParts } from './http-parts.js';

/** A node request, possibly already read by a framework that kept the bytes (functions-framework's `rawBody`). */
export type NodeRequestLike = IncomingMessage & { readonly rawBody?: Buffer; readonly originalUrl?: string };

/** Reads a node request's body, or takes the bytes a framework kept. */
export async function readNodeBody(req: NodeRequestLike): Promise<Uint8Array<ArrayBuffer>> {
  if (Buffer.isBuffer(req.rawBody)) return Uint8Array.from(req.rawBody);
  if (req.readableEnded) return new Uint8Array();
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Uint8Array.from(Buffer.concat(chunks));
}

/** A node (or Express) request as a Web Request: repeated headers kept, body as bytes. */
export async function nodeToWebRequest(
  req: NodeRequestLike,
  opts: { signal?: AbortSignal } = {},
): Promise<Request> {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  const method = req.method ?? 'GET';
  const proto = headers.get('x-forwarded-proto')?.split(',')[0]?.trim() ?? 'http';
  const url = `${proto}://${headers.get('host') ?? 'localhost'}${req.originalUrl ?? req.url ?? '/'}`;
  const body = methodHasBody(method) ? await readNodeBody(req) : undefined;
  return new Request(url, {
    method,
    headers,
    ...(body !== undefined && body.byteLength > 0 ? { body } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
}

/** Writes a Web Response to a node (or Express) response: status, repeated headers, every Set-Cookie, body. */
export async function writeWebResponse(res: ServerResponse, response: Response): Promise<void> {
  const parts = await responseParts(response);
  res.statusCode = parts.status;
  const grouped = new Map<string, string[]>();
  for (const [k, v] of parts.headers) {
    const list = grouped.get(k) ?? [];
    list.push(v);
    grouped.set(k, list);
  }
  for (const [k, vs] of grouped) res.setHeader(k, vs.length === 1 ? vs[0]! : vs);
  if (parts.cookies.length > 0) res.setHeader('set-cookie', [...parts.cookies]);
  res.setHeader('content-length', String(parts.body.byteLength));
  await new Promise<void>((resolve) => res.end(Buffer.from(parts.body), () => resolve()));
}
