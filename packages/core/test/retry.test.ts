import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_RETRY, pcError, withRetry } from '../src/index.js';

const fast = { maxAttempts: 4, initialDelayMs: 1, maxDelayMs: 2 };

describe('withRetry', () => {
  it('retries retryable errors up to maxAttempts', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw pcError('UNAVAILABLE', 'down');
        },
        { policy: fast, what: 't' },
      ),
    ).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(calls).toBe(4);
  });

  it('does not retry permanent errors', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw pcError('NOT_FOUND', 'gone');
        },
        { policy: fast, what: 't' },
      ),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(calls).toBe(1);
  });

  it('retries only THROTTLED for non-idempotent calls', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw pcError('UNAVAILABLE', 'maybe applied');
        },
        { policy: fast, what: 't', idempotent: false },
      ),
    ).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(calls).toBe(1);
    let throttled = 0;
    const r = await withRetry(
      async () => {
        if (++throttled < 3) throw pcError('THROTTLED', 'slow');
        return 'ok';
      },
      { policy: fast, what: 't', idempotent: false },
    );
    expect(r).toBe('ok');
    expect(throttled).toBe(3);
  });

  it('stops waiting when the signal aborts', async () => {
    const ac = new AbortController();
    const p = withRetry(
      async () => {
        ac.abort();
        throw pcError('UNAVAILABLE', 'down');
      },
      {
        policy: { maxAttempts: 10, initialDelayMs: 10_000, maxDelayMs: 10_000 },
        signal: ac.signal,
        what: 't',
      },
    );
    await expect(p).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('backs off exponentially with full jitter under a cap', () => {
    expect(backoffDelay(DEFAULT_RETRY, 1, () => 0.999)).toBeLessThan(100);
    expect(backoffDelay(DEFAULT_RETRY, 3, () => 0.999)).toBeGreaterThanOrEqual(399);
    expect(backoffDelay(DEFAULT_RETRY, 30, () => 0.999)).toBeLessThanOrEqual(DEFAULT_RETRY.maxDelayMs);
    expect(backoffDelay(DEFAULT_RETRY, 3, () => 0)).toBe(0);
  });
});
