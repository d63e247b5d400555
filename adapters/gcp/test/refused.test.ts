import { createServer } from 'node:net';
import { isPolycloudError, openQueue } from '@polycloud/core';
import { describe, expect, it } from 'vitest';

// A connection that is refused is UNAVAILABLE on every provider, at once: opening a Pub/Sub
// queue reads the subscription, and gax's own retries of that read used to turn a refused port
// into a TIMEOUT at the end of the open bound. No emulator: the port is closed on purpose.

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('Pub/Sub open on a refused connection', () => {
  it('fails UNAVAILABLE (retryable), not TIMEOUT', async () => {
    const port = await closedPort();
    const err = await openQueue('gcppubsub://projects/p/topics/t?subscription=s', {
      timeoutMs: 25_000,
      driverOptions: { apiEndpoint: `127.0.0.1:${port}` },
    }).catch((e: unknown) => e);
    expect(isPolycloudError(err) ? [err.code, err.retryable, err.operation] : err).toEqual([
      'UNAVAILABLE',
      true,
      'open',
    ]);
  }, 60_000);
});
