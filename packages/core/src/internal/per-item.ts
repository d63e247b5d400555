import { abortError, isPolycloudError, type PolycloudError, pcError } from '../errors.js';
import type { CallTelemetry } from '../telemetry.js';
import type { CallRunner } from './context.js';

/**
 * Runs a driver call that answers per item (queue send/ack, kv setMany/deleteMany) as one
 * retried call: items that failed with a retryable error are sent again, only those, until they
 * succeed or the retry policy gives up, so per-item failures get the retries a failed call
 * gets. Every item gets a result, in input order.
 */
export async function perItem<R>(
  runner: CallRunner,
  op: string,
  count: number,
  signal: AbortSignal | undefined,
  call: (
    indexes: readonly number[],
    signal: AbortSignal | undefined,
    telemetry: CallTelemetry,
  ) => Promise<readonly R[]>,
  errorOf: (r: R) => unknown,
): Promise<({ ok: R } | { error: PolycloudError })[]> {
  const out: ({ ok: R } | { error: PolycloudError } | undefined)[] = new Array(count);
  let pending: number[] = Array.from({ length: count }, (_, i) => i);
  try {
    await runner.run(op, undefined, signal, async (s, telemetry) => {
      const res = await call(pending, s, telemetry);
      if (s?.aborted) {
        // Items a driver failed because the call was aborted (the caller's signal or a time
        // limit) failed for that reason, whatever transport error the SDK reported for them:
        // they take the call's CANCELLED or TIMEOUT, not an item error of their own.
        const failed = pending.filter((_, j) => res[j] === undefined || errorOf(res[j] as R) !== undefined);
        pending.forEach((i, j) => {
          out[i] = failed.includes(i) ? undefined : { ok: res[j] as R };
        });
        pending = failed;
        if (failed.length > 0) throw abortError(s, `${op} on ${runner.service} "${runner.name}"`);
        return;
      }
      const again: number[] = [];
      let retry: unknown;
      pending.forEach((i, j) => {
        const r = res[j];
        if (r === undefined) {
          out[i] = { error: pcError('INTERNAL', 'driver returned no result', runner.ctx(op)) };
          return;
        }
        const e = errorOf(r);
        if (e === undefined) out[i] = { ok: r };
        else {
          out[i] = { error: runner.normalize(e, op) };
          if (isPolycloudError(e) && e.retryable) {
            again.push(i);
            retry ??= e;
          }
        }
      });
      pending = again;
      if (retry !== undefined) throw retry;
    });
  } catch (err) {
    const error = runner.normalize(err, op);
    // Items that have an answer of their own keep it; the rest share the call's failure.
    for (let i = 0; i < count; i++) if (out[i] === undefined) out[i] = { error };
  }
  return out as ({ ok: R } | { error: PolycloudError })[];
}
