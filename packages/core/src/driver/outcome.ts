import { isPolycloudError, PolycloudError } from '../errors.js';

/** What reading back after an ambiguous write found. */
export type Probe<T> =
  /** The write landed; this is what the call should return. */
  | { readonly applied: T }
  /** The state proves the write did not land (e.g. the version it was conditioned on is still there). */
  | 'not-applied'
  /** The state cannot tell (someone else wrote since). */
  | 'unknown';

/**
 * Resolves a write whose outcome is unknown (`err.outcomeUnknown`: the connection broke after
 * the request was sent) by reading back. A non-idempotent or conditional write must never be
 * reported as "nothing written" when it may have landed, nor be sent again blindly:
 * - the read shows the write (the version the driver wrote is there): the call succeeds;
 * - the read proves it did not land: the error is rethrown as a plain retryable UNAVAILABLE;
 * - otherwise (or when the read fails too) the error stays `outcomeUnknown`.
 * Any other error is rethrown unchanged.
 *
 * @example
 * catch (err) {
 *   return resolveOutcome(wrap(err), async () => {
 *     const now = await read(key);
 *     return now?.version === written ? { applied: { version: written } } : now?.version === ifVersion ? 'not-applied' : 'unknown';
 *   });
 * }
 */
export async function resolveOutcome<T>(err: unknown, probe: () => Promise<Probe<T>>): Promise<T> {
  if (!isPolycloudError(err) || !err.outcomeUnknown) throw err;
  let found: Probe<T>;
  try {
    found = await probe();
  } catch {
    throw err;
  }
  if (found === 'unknown') throw err;
  if (found === 'not-applied') throw notApplied(err);
  return found.applied;
}

function notApplied(err: PolycloudError): PolycloudError {
  const e = new PolycloudError({
    code: err.code,
    message: `${err.message.replace(/ \(the request was sent before[^)]*\)$/, '')} (read back: the write did not land; it may be retried)`,
    retryable: true,
    provider: err.provider,
    service: err.service,
    operation: err.operation,
    resource: err.resource,
    cause: err.cause,
    outcomeUnknown: false,
  });
  e.stack = err.stack;
  return e;
}
