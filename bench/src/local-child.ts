/**
 * One process of the multi-process rows of the `local` bench: increments one shared counter
 * or drains a shared queue, then prints how many operations it did.
 */
import { openKv, openQueue } from '@polycloud/core';

const [mode = '', url = '', count = '0'] = process.argv.slice(2);
let ops = 0;
if (mode === 'increment') {
  await using kv = await openKv(url);
  for (let i = 0; i < Number(count); i++) {
    await kv.increment('counter');
    ops++;
  }
} else if (mode === 'drain') {
  await using q = await openQueue(url);
  for (;;) {
    const got = await q.receive({ maxMessages: 10, waitSeconds: 1 });
    if (got.length === 0) break;
    await q.ack(got);
    ops += got.length;
  }
} else {
  throw new Error(`unknown mode ${mode}`);
}
console.log(ops);
