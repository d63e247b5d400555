import {
  abortMargin,
  createFunctionContext,
  type DriverMessage,
  httpFunction,
  invokeHttp,
  isPolycloudError,
  nextCronTime,
  parseCron,
  queueFunction,
  runQueueBatch,
  scheduleFunction,
  toEventBridgeCron,
  toNcrontab,
  utf8,
} from '@polycloud/core';
import { describe, expect, it } from 'vitest';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

describe('cron dialects', () => {
  it('converts unix cron to EventBridge (days 1-7 from Sunday, ? in the unused day field)', () => {
    expect(toEventBridgeCron('0 3 * * *')).toBe('cron(0 3 * * ? *)');
    expect(toEventBridgeCron('*/5 9-17 * * 1-5')).toBe('cron(*/5 9-17 ? * 2-6 *)');
    expect(toEventBridgeCron('0 0 * * 0,7')).toBe('cron(0 0 ? * 1,1 *)');
    expect(toEventBridgeCron('0 12 1 JAN *')).toBe('cron(0 12 1 JAN ? *)');
    expect(toEventBridgeCron('0 0 * * SUN/2')).toBe('cron(0 0 ? * SUN/2 *)');
  });

  it('rejects what EventBridge cannot express, with INVALID_ARGUMENT', () => {
    expect(() => toEventBridgeCron('0 0 1 * 1')).toThrowError(/both day-of-month and day-of-week/);
  });

  it('converts to NCRONTAB with seconds first', () => {
    expect(toNcrontab('*/10 * * * *')).toBe('0 */10 * * * *');
  });

  it('rejects malformed and non-portable expressions', () => {
    for (const bad of [
      '* * * *',
      '0 0 0 * * *',
      '61 * * * *',
      '* * * * MON-',
      '5-1 * * * *',
      '*/0 * * * *',
    ]) {
      let err: unknown;
      try {
        parseCron(bad);
      } catch (e) {
        err = e;
      }
      expect(isPolycloudError(err, 'INVALID_ARGUMENT'), bad).toBe(true);
    }
    expect(() => scheduleFunction('@daily', async () => {})).toThrowError(/not a portable cron/);
  });

  it("finds the next firing in UTC, with cron's day-of-month OR day-of-week rule", () => {
    const spec = parseCron('30 2 13 * 5');
    // 2026-11-27 is a Friday: the weekday matches before the 13th of December does.
    expect(nextCronTime(spec, new Date('2026-11-26T12:00:00Z')).toISOString()).toBe(
      '2026-11-27T02:30:00.000Z',
    );
    expect(nextCronTime(parseCron('0 0 29 2 *'), new Date('2026-03-01T00:00:00Z')).toISOString()).toBe(
      '2028-02-29T00:00:00.000Z',
    );
  });
});

describe('context', () => {
  it('aborts the signal before the deadline', async () => {
    const deadlineMs = Date.now() + 600;
    const { ctx, done } = createFunctionContext({
      requestId: 'r',
      provider: 'test',
      native: {},
      deadlineMs,
      logger: quiet,
    });
    expect(ctx.deadline?.getTime()).toBe(deadlineMs);
    await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
    // The timer is set abortMargin() before the deadline (10% of the time left, 50 ms to 2 s).
    expect((ctx.signal.reason as DOMException).name).toBe('TimeoutError');
    expect(abortMargin(600)).toBe(60);
    expect(abortMargin(60_000)).toBe(2000);
    done();
  });
});

describe('HTTP', () => {
  it('a thrown handler is a bare 500; the error goes to the logger', async () => {
    const logged: string[] = [];
    const logger = {
      ...quiet,
      error: (m: string, f?: Readonly<Record<string, unknown>>) => logged.push(`${m} ${JSON.stringify(f)}`),
    };
    const { ctx } = createFunctionContext({ requestId: 'r', provider: 'test', native: {}, logger });
    const res = await invokeHttp(
      httpFunction(() => {
        throw new Error('db password is hunter2');
      }),
      new Request('http://x/'),
      ctx,
    );
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain('hunter2');
    expect(logged.join()).toContain('hunter2');
  });
});

describe('queue batches', () => {
  const msg = (id: string, body: unknown, groupId?: string): DriverMessage => ({
    id,
    body: utf8(JSON.stringify(body)),
    attributes: {},
    deliveryCount: 1,
    enqueuedAt: new Date(),
    groupId,
    receipt: undefined,
  });

  it('reports failed messages, and fails the rest of a group after a failure so order holds', async () => {
    const { ctx } = createFunctionContext({ requestId: 'r', provider: 'test', native: {}, logger: quiet });
    const handled: string[] = [];
    const fn = queueFunction<{ fail?: boolean }>(
      async (m) => {
        handled.push(m.id);
        if (m.body.fail) throw new Error('no');
      },
      { concurrency: 4 },
    );
    const failures = await runQueueBatch(
      fn,
      [
        msg('a', {}),
        msg('b', { fail: true }, 'g'),
        msg('c', {}, 'g'),
        msg('d', {}),
        msg('e', 'not an object'),
      ],
      ctx,
      { queueName: 'q', provider: 'test' },
    );
    expect(failures.map((f) => f.id)).toEqual(['b', 'c']);
    expect(handled).not.toContain('c');
    expect(handled.sort()).toEqual(['a', 'b', 'd', 'e']);
  });

  it('a body the codec cannot decode is a failure of that message only', async () => {
    const { ctx } = createFunctionContext({ requestId: 'r', provider: 'test', native: {}, logger: quiet });
    const fn = queueFunction(async (m) => {
      void m.body;
    });
    const bad: DriverMessage = { ...msg('x', 0), body: utf8('{not json') };
    const failures = await runQueueBatch(fn, [bad, msg('y', 1)], ctx, { queueName: 'q', provider: 'test' });
    expect(failures.map((f) => f.id)).toEqual(['x']);
    expect(isPolycloudError(failures[0]!.error, 'INVALID_ARGUMENT')).toBe(true);
  });
});
