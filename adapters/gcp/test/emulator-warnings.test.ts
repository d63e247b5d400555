import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Bigtable } from '@google-cloud/bigtable';
import { PubSub } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gcpTarget, PROJECT, rand } from './emulator.js';

// A user's script against the Pub/Sub and Bigtable emulators, with the emulator variables and
// no Google credentials (as on a laptop or in CI): its output is its own. google-gax used to
// probe the GCE metadata server for the universe domain and print a MetadataLookupWarning.
const ps = gcpTarget('pstest');
const bt = gcpTarget('bigtable-emulator');
const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const INSTANCE = 'polycloud';
const id = `pc-warn-${rand()}`;
let admin: { pubsub: PubSub; bigtable: Bigtable } | undefined;

const SCRIPT = `
import { openKv, openQueue } from '@polycloud/core';
const [queueUrl, kvUrl] = process.argv.slice(1);
const q = await openQueue(queueUrl);
await q.send({ n: 1 });
const got = await q.receive({ waitSeconds: 5 });
await q.ack(got);
await q.close();
const kv = await openKv(kvUrl);
await kv.set('k', 1);
console.log(JSON.stringify({ received: got.length, value: (await kv.get('k'))?.value }));
await kv.close();
`;

describe.skipIf(ps.notRun !== undefined || bt.notRun !== undefined)(
  'gRPC emulators without credentials',
  () => {
    beforeAll(async () => {
      admin = {
        pubsub: new PubSub({ projectId: PROJECT, apiEndpoint: ps.endpoint!.env.PUBSUB_EMULATOR_HOST! }),
        bigtable: new Bigtable({
          projectId: PROJECT,
          apiEndpoint: bt.endpoint!.env.BIGTABLE_EMULATOR_HOST!,
          metricsEnabled: false,
        }),
      };
      const [topic] = await admin.pubsub.createTopic(id);
      await topic.createSubscription(id, { ackDeadlineSeconds: 30 });
      await admin.bigtable
        .instance(INSTANCE)
        .createTable(id, { families: [{ name: 'kv', rule: { versions: 1 } }] });
    }, 60_000);
    afterAll(async () => {
      await admin?.pubsub.close();
      await admin?.bigtable.close();
    });

    it('a script using Pub/Sub and Bigtable prints no warning and exits 0', async () => {
      const child = spawn(
        process.execPath,
        [
          // The sources under test, as the process conformance suites run them (no build step).
          '--import',
          'tsx',
          '--import',
          `${REPO}/conformance/src/process/register.mjs`,
          '--input-type=module',
          '-e',
          SCRIPT,
          `gcppubsub://projects/${PROJECT}/topics/${id}?subscription=${id}`,
          `bigtable://projects/${PROJECT}/instances/${INSTANCE}/tables/${id}`,
        ],
        {
          cwd: REPO,
          env: {
            PATH: process.env.PATH ?? '',
            HOME: process.env.HOME ?? '/tmp',
            PUBSUB_EMULATOR_HOST: ps.endpoint!.env.PUBSUB_EMULATOR_HOST!,
            BIGTABLE_EMULATOR_HOST: bt.endpoint!.env.BIGTABLE_EMULATOR_HOST!,
            GOOGLE_CLOUD_PROJECT: PROJECT,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      expect(JSON.parse(stdout)).toEqual({ received: 1, value: 1 });
    }, 60_000);
  },
);
