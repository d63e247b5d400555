import type { IncomingMessage } from 'node:http';
import {
  cloudEventFromHttp,
  pushBodyToDriverMessage,
  storageEventToBlobEvent,
} from '@polycloud/gcp/functions';
import { describe, expect, it } from 'vitest';

describe('Cloud Functions binding details', () => {
  it('push bodies decode as the subscription driver decodes pulled messages (empty-body marker dropped)', () => {
    const m = pushBodyToDriverMessage({
      message: {
        data: '',
        attributes: { 'polycloud-empty': '1', k: 'v' },
        messageId: '9',
        publishTime: '2026-01-02T03:04:05.678Z',
      },
      subscription: 'projects/p/subscriptions/s',
      deliveryAttempt: 4,
    });
    expect(m.body.byteLength).toBe(0);
    expect(m.attributes).toEqual({ k: 'v' });
    expect(m.deliveryCount).toBe(4);
    expect(m.enqueuedAt.toISOString()).toBe('2026-01-02T03:04:05.678Z');
  });

  it('reads structured-mode CloudEvents with data_base64', () => {
    const req = {
      headers: { 'content-type': 'application/cloudevents+json; charset=utf-8' },
    } as unknown as IncomingMessage;
    const ce = cloudEventFromHttp(
      req,
      new TextEncoder().encode(
        JSON.stringify({
          specversion: '1.0',
          id: '1',
          type: 'google.cloud.storage.object.v1.finalized',
          source: '//storage.googleapis.com/projects/_/buckets/b',
          datacontenttype: 'application/json',
          data_base64: Buffer.from(
            JSON.stringify({ bucket: 'b', name: 'a b', size: '3', generation: '17' }),
          ).toString('base64'),
        }),
      ),
    );
    expect(storageEventToBlobEvent(ce!)).toMatchObject({
      type: 'created',
      bucket: 'b',
      key: 'a b',
      size: 3,
      etag: '17',
    });
  });

  it('rejects other event types naming the binding', () => {
    expect(() =>
      storageEventToBlobEvent({
        id: '1',
        type: 'google.cloud.storage.object.v1.archived',
        source: 's',
        data: {},
      }),
    ).toThrowError(/@polycloud\/gcp\/functions \(Cloud Storage\)/);
  });
});
