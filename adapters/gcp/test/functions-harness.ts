import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import * as ff from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { PubSub } from '@google-cloud/pubsub';
import type { Storage } from '@google-cloud/storage';
import type { FunctionsHarness } from '@polycloud/conformance';
import { openBucket, openQueue, type PortableFunction } from '@polycloud/core';
import { cloudFunctionsEvent, cloudFunctionsHttp } from '@polycloud/gcp/functions';
import { storageClient } from '@polycloud/gcp/storage';
import '@polycloud/memory';
import { fakeServiceAccount, gcpTarget, PROJECT, rand } from './emulator.js';

/**
 * How events reach the function:
 * - 'cloudevent': the function is registered with functions-framework's `cloudEvent`; Pub/Sub
 *   messages arrive as messagePublished CloudEvents in binary mode, storage events in
 *   structured mode (as Eventarc sends them).
 * - 'http': the function is registered with `http`; Pub/Sub messages arrive as push requests,
 *   schedules as Cloud Scheduler HTTP-target requests, storage events as binary CloudEvents.
 */
export type GcpMode = 'cloudevent' | 'http';

/** A function registered with functions-framework and served on a real port. */
async function ffServe(
  fn: PortableFunction,
  mode: GcpMode,
): Promise<{ url: string; close(): Promise<void> }> {
  const name = `fn-${randomUUID()}`;
  if (fn.kind === 'http' || mode === 'http') ff.http(name, cloudFunctionsHttp(fn, { timeoutSeconds: 60 }));
  else ff.cloudEvent(name, cloudFunctionsEvent(fn, { timeoutSeconds: 60 }));
  const server = getTestServer(name);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections?.();
      }),
  };
}

interface Pulled {
  ackId: string;
  deliveryAttempt?: number | null;
  message: {
    data?: Uint8Array | null;
    attributes?: Record<string, string> | null;
    messageId: string;
    publishTime?: { seconds?: number | string | null; nanos?: number | null } | null;
    orderingKey?: string | null;
  };
}

function rfc3339(t: Pulled['message']['publishTime']): string {
  if (!t) return new Date().toISOString();
  return new Date(Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6)).toISOString();
}

/** Pub/Sub's push body for a pulled message (fixture: Pub/Sub docs, "Push subscriptions", receiving messages). */
function pushBody(p: Pulled, subscription: string) {
  return {
    message: {
      data: Buffer.from(p.message.data ?? new Uint8Array()).toString('base64'),
      ...(p.message.attributes && Object.keys(p.message.attributes).length > 0
        ? { attributes: p.message.attributes }
        : {}),
      messageId: p.message.messageId,
      message_id: p.message.messageId,
      publishTime: rfc3339(p.message.publishTime),
      publish_time: rfc3339(p.message.publishTime),
      ...(p.message.orderingKey ? { orderingKey: p.message.orderingKey } : {}),
    },
    subscription,
    ...(p.deliveryAttempt ? { deliveryAttempt: p.deliveryAttempt } : {}),
  };
}

export function cloudFunctionsHarness(opts: { reportName: string; mode: GcpMode }): FunctionsHarness {
  const ps = gcpTarget('pstest');
  const gcs = gcpTarget('fake-gcs-server');
  let pubsub: PubSub | undefined;
  let storage: Storage | undefined;
  let credentials: { client_email: string; private_key: string } | undefined;
  return {
    adapter: 'gcp',
    emulator: 'pstest',
    reportName: opts.reportName,
    runtime: `functions-framework (${opts.mode === 'http' ? 'HTTP' : 'CloudEvent'})`,
    notRun: ps.notRun ?? gcs.notRun,
    binding: '@polycloud/gcp/functions',
    provider: 'gcp',
    hasDeadline: true,
    async beforeAll() {
      if (ps.endpoint)
        pubsub = new PubSub({ projectId: PROJECT, apiEndpoint: ps.endpoint.env.PUBSUB_EMULATOR_HOST! });
      if (gcs.endpoint) {
        credentials = fakeServiceAccount();
        storage = storageClient({ apiEndpoint: gcs.endpoint.env.STORAGE_EMULATOR_HOST!, projectId: PROJECT });
      }
    },
    async afterAll() {
      await pubsub?.close();
    },
    async http(fn) {
      const s = await ffServe(fn, opts.mode);
      return {
        async fetch(req) {
          const u = new URL(req.url);
          const body =
            req.method === 'GET' || req.method === 'HEAD'
              ? undefined
              : new Uint8Array(await req.arrayBuffer());
          return fetch(`${s.url}${u.pathname}${u.search}`, {
            method: req.method,
            headers: req.headers,
            redirect: 'manual',
            ...(body ? { body } : {}),
          });
        },
        close: () => s.close(),
      };
    },
    async queue() {
      const client = pubsub!;
      const id = `pc-fn-${rand()}`;
      const [topic] = await client.createTopic(id);
      await client.createTopic(`${id}-dlq`);
      // A dead-letter policy makes Pub/Sub count deliveries (deliveryAttempt), as on the real service.
      await topic.createSubscription(id, {
        ackDeadlineSeconds: 30,
        deadLetterPolicy: { deadLetterTopic: `projects/${PROJECT}/topics/${id}-dlq`, maxDeliveryAttempts: 5 },
      });
      const subscription = `projects/${PROJECT}/subscriptions/${id}`;
      const claimCheck = await openBucket(`mem://claims-${rand()}`);
      const queue = await openQueue(`gcppubsub://projects/${PROJECT}/topics/${id}?subscription=${id}`, {
        driverOptions: { client },
        claimCheck: { bucket: claimCheck },
      });
      const call = <T>(method: string, reqOpts: object) =>
        new Promise<T>((resolve, reject) =>
          client.request<T>({ client: 'SubscriberClient', method, reqOpts }, (err, res) =>
            err ? reject(err) : resolve(res as T),
          ),
        );
      let served: { url: string; close(): Promise<void> } | undefined;
      let servedFn: PortableFunction | undefined;
      return {
        queue,
        claimCheck,
        async deliver(fn) {
          if (servedFn !== fn || !served) {
            await served?.close();
            served = await ffServe(fn, opts.mode);
            servedFn = fn;
          }
          const target = served;
          const r = await call<{ receivedMessages?: Pulled[] }>('pull', {
            subscription,
            maxMessages: 10,
            returnImmediately: true,
          });
          const failed: string[] = [];
          for (const p of r.receivedMessages ?? []) {
            const body = pushBody(p, subscription);
            let res: Response;
            if (opts.mode === 'http') {
              res = await fetch(target.url, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify(body),
              });
            } else {
              // Fixture: Eventarc messagePublished event in binary content mode (CloudEvents HTTP binding).
              res = await fetch(target.url, {
                method: 'POST',
                headers: {
                  'content-type': 'application/json',
                  'ce-specversion': '1.0',
                  'ce-id': p.message.messageId,
                  'ce-type': 'google.cloud.pubsub.topic.v1.messagePublished',
                  'ce-source': `//pubsub.googleapis.com/projects/${PROJECT}/topics/${id}`,
                  'ce-time': rfc3339(p.message.publishTime),
                },
                body: JSON.stringify(body),
              });
            }
            await res.arrayBuffer();
            if (res.ok) await call('acknowledge', { subscription, ackIds: [p.ackId] });
            else {
              failed.push(p.message.messageId);
              await call('modifyAckDeadline', { subscription, ackIds: [p.ackId], ackDeadlineSeconds: 0 });
            }
          }
          return { failed };
        },
        async cleanup() {
          await served?.close();
          await queue.close();
          await claimCheck.close();
          await client
            .subscription(id)
            .delete()
            .catch(() => {});
          await client
            .topic(id)
            .delete()
            .catch(() => {});
          await client
            .topic(`${id}-dlq`)
            .delete()
            .catch(() => {});
        },
      };
    },
    async schedule(fn) {
      const s = await ffServe(fn, opts.mode);
      try {
        let res: Response;
        if (opts.mode === 'http') {
          // Fixture: Cloud Scheduler HTTP target request headers (Cloud Scheduler docs, "HTTP target").
          res = await fetch(s.url, {
            method: 'POST',
            headers: {
              'x-cloudscheduler': 'true',
              'x-cloudscheduler-jobname': 'polycloud-test',
              'x-cloudscheduler-scheduletime': new Date().toISOString(),
              'content-type': 'application/octet-stream',
            },
            body: '',
          });
        } else {
          // A Cloud Scheduler job with a Pub/Sub target reaches the function as messagePublished.
          res = await fetch(s.url, {
            method: 'POST',
            headers: { 'content-type': 'application/cloudevents+json' },
            body: JSON.stringify({
              specversion: '1.0',
              id: randomUUID(),
              type: 'google.cloud.pubsub.topic.v1.messagePublished',
              source: `//pubsub.googleapis.com/projects/${PROJECT}/topics/tick`,
              time: new Date().toISOString(),
              datacontenttype: 'application/json',
              data: {
                message: { data: '', messageId: randomUUID(), publishTime: new Date().toISOString() },
                subscription: 'x',
              },
            }),
          });
        }
        const text = await res.text();
        if (!res.ok) throw new Error(`schedule delivery answered ${res.status}: ${text}`);
      } finally {
        await s.close();
      }
    },
    async blob(fn) {
      const client = storage!;
      const name = `pc-fn-${rand()}`;
      await client.createBucket(name);
      const bucket = await openBucket(
        `gs://${name}?projectId=${PROJECT}&endpoint=${encodeURIComponent(gcs.endpoint!.env.STORAGE_EMULATOR_HOST!)}`,
        { driverOptions: { credentials } },
      );
      const s = await ffServe(fn, opts.mode);
      const send = async (type: string, data: Record<string, unknown>) => {
        const ce = {
          specversion: '1.0',
          id: randomUUID(),
          type,
          source: `//storage.googleapis.com/projects/_/buckets/${name}`,
          subject: `objects/${String(data.name)}`,
          time: new Date().toISOString(),
          datacontenttype: 'application/json',
        };
        // Eventarc delivers storage events in binary mode; structured mode is exercised in 'cloudevent' mode.
        const res =
          opts.mode === 'http'
            ? await fetch(s.url, {
                method: 'POST',
                headers: Object.fromEntries([
                  ['content-type', 'application/json'],
                  ...Object.entries(ce)
                    .filter(([k]) => k !== 'datacontenttype')
                    .map(([k, v]) => [`ce-${k}`, v]),
                ]),
                body: JSON.stringify(data),
              })
            : await fetch(s.url, {
                method: 'POST',
                headers: { 'content-type': 'application/cloudevents+json' },
                body: JSON.stringify({ ...ce, data }),
              });
        const text = await res.text();
        if (!res.ok) throw new Error(`storage event answered ${res.status}: ${text}`);
      };
      const objectData = async (key: string) => {
        // The object resource as Cloud Storage reports it: the event's data is this resource.
        const files = (await client.bucket(name).getFiles())[0];
        const f = files.find(
          (x) => x.name.length > 0 && (x.name === key || x.name.includes(key.split('/')[0]!)),
        );
        if (!f) throw new Error(`object for ${key} not found in ${name}`);
        const [meta] = await f.getMetadata();
        return meta as unknown as Record<string, unknown>;
      };
      return {
        bucket,
        async put(key, body) {
          await bucket.put(key, body);
          await send('google.cloud.storage.object.v1.finalized', await objectData(key));
        },
        async remove(key) {
          const data = await objectData(key);
          await bucket.delete(key);
          await send('google.cloud.storage.object.v1.deleted', data);
        },
        async cleanup() {
          await s.close();
          await bucket.close();
          await client
            .bucket(name)
            .deleteFiles({ force: true })
            .catch(() => {});
          await client
            .bucket(name)
            .delete()
            .catch(() => {});
        },
      };
    },
    async malformed(fn) {
      if (fn.kind !== 'http' && opts.mode === 'cloudevent') {
        try {
          await cloudFunctionsEvent(fn)({ id: 'x', type: 'com.example.unknown', source: '//x', data: {} });
          return undefined;
        } catch (err) {
          return err;
        }
      }
      if (fn.kind === 'http') {
        // HTTP functions take any request; the malformed-event case is an HTTP function bound as a CloudEvent one.
        try {
          cloudFunctionsEvent(fn);
          return undefined;
        } catch (err) {
          return err;
        }
      }
      const s = await ffServe(fn, opts.mode);
      try {
        return await fetch(s.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ hello: 'world' }),
        }).then(async (r) => new Response(await r.arrayBuffer(), { status: r.status }));
      } finally {
        await s.close();
      }
    },
  };
}
