import {
  decodeS3Key,
  eventBridgeSchedule,
  type LambdaContext,
  lambda,
  sqsRecordToDriverMessage,
} from '@polycloud/aws/functions';
import {
  blobEventFunction,
  httpFunction,
  isPolycloudError,
  queueFunction,
  scheduleFunction,
} from '@polycloud/core';
import { describe, expect, it } from 'vitest';

const context: LambdaContext = { awsRequestId: 'req-1', getRemainingTimeInMillis: () => 30_000 };
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

describe('Lambda binding details', () => {
  it('decodes S3 event keys (URL encoding, + for space)', () => {
    expect(decodeS3Key('uploads/a+b%2Bc+%C3%BC%2520.txt')).toBe('uploads/a b+c ü%20.txt');
    expect(() => decodeS3Key('bad%E0%A4%A')).toThrowError(/not valid URL encoding/);
  });

  it('ALB without multi-value headers: one value per name, the last Set-Cookie', async () => {
    const fn = httpFunction(() => {
      const h = new Headers();
      h.append('set-cookie', 'a=1');
      h.append('set-cookie', 'b=2');
      return new Response('ok', { headers: h });
    });
    const out = (await lambda(fn, { logger: quiet })(
      {
        requestContext: {
          elb: { targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/x/1' },
        },
        httpMethod: 'GET',
        path: '/',
        queryStringParameters: { q: 'a%20b' },
        headers: { host: 'example.com' },
        body: '',
        isBase64Encoded: false,
      },
      context,
    )) as { statusCode: number; statusDescription: string; headers: Record<string, string> };
    expect(out.statusCode).toBe(200);
    expect(out.statusDescription).toBe('200 Status');
    expect(out.headers['set-cookie']).toBe('b=2');
  });

  it('SQS records decode binary attributes and the body marker as the driver does', () => {
    const m = sqsRecordToDriverMessage({
      messageId: 'm1',
      body: Buffer.from([0xff, 0x00, 0x01]).toString('base64'),
      attributes: {
        ApproximateReceiveCount: '3',
        SentTimestamp: '1700000000000',
        MessageGroupId: 'polycloud-ungrouped:abc',
      },
      messageAttributes: {
        'polycloud-body': { dataType: 'String', stringValue: 'base64' },
        note: { dataType: 'Binary.polycloud-utf8', binaryValue: Buffer.from('u').toString('base64') },
      },
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:jobs.fifo',
    });
    expect([...m.body]).toEqual([0xff, 0x00, 0x01]);
    expect(m.attributes).toEqual({ note: '' });
    expect(m.deliveryCount).toBe(3);
    expect(m.enqueuedAt.getTime()).toBe(1_700_000_000_000);
    expect(m.groupId).toBeUndefined();
  });

  it('EventBridge schedules convert; unconvertible ones are rejected when binding', () => {
    expect(eventBridgeSchedule(scheduleFunction('15 10 * * 1', async () => {}))).toBe('cron(15 10 ? * 2 *)');
    let err: unknown;
    try {
      lambda(scheduleFunction('0 0 1 * 1', async () => {}));
    } catch (e) {
      err = e;
    }
    expect(isPolycloudError(err, 'INVALID_ARGUMENT')).toBe(true);
  });

  it('rejects events of the wrong source naming the binding and the event', async () => {
    const cases = [
      [queueFunction(async () => {}), { Records: [{ eventSource: 'aws:s3' }] }],
      [blobEventFunction(async () => {}), { Records: [{ eventSource: 'aws:sqs' }] }],
      [httpFunction(() => new Response()), { Records: [] }],
      [
        blobEventFunction(async () => {}),
        {
          Records: [
            {
              eventSource: 'aws:s3',
              eventName: 'ObjectTagging:Put',
              s3: { bucket: { name: 'b' }, object: { key: 'k' } },
            },
          ],
        },
      ],
    ] as const;
    for (const [fn, event] of cases) {
      const err = await lambda(fn, { logger: quiet })(event, context).catch((e: unknown) => e);
      expect(isPolycloudError(err, 'INVALID_ARGUMENT'), JSON.stringify(event)).toBe(true);
      expect((err as Error).message).toContain('@polycloud/aws/functions');
    }
  });
  it('an HTTP event whose path lacks its leading slash reaches the function at /path (fuzz seed 514093804)', async () => {
    const fn = httpFunction((req) => new Response(new URL(req.url).pathname));
    const out = (await lambda(fn, { logger: quiet })(
      { httpMethod: 'GET', requestContext: {}, path: 'l4VFbW@', headers: { host: 'example.com' } },
      context,
    )) as { statusCode: number; body: string };
    expect(out.statusCode).toBe(200);
    expect(out.body).toBe('/l4VFbW@');
  });

  it('an HTTP event a Request cannot carry is INVALID_ARGUMENT, not a TypeError', async () => {
    const fn = httpFunction(() => new Response('never'));
    const err = await lambda(fn, { logger: quiet })(
      { httpMethod: 'GET', requestContext: {}, path: '/', headers: { host: 'exa mple.com' } },
      context,
    ).catch((e: unknown) => e);
    expect(isPolycloudError(err, 'INVALID_ARGUMENT'), String(err)).toBe(true);
    expect((err as Error).message).toContain('cannot be turned into a Request');
  });
});
