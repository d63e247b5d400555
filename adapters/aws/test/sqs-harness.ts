import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { createSqsClient } from '@polycloud/aws/sqs';
import type { QueueHarness } from '@polycloud/conformance';
import { openQueue } from '@polycloud/core';
import { type AwsTarget, awsTarget, rand } from './emulator.js';

/** Which kind of SQS queue the harness creates. */
export interface SqsHarnessOptions {
  /**
   * FIFO queues: names end in `.fifo`, `FifoQueue=true`, `ContentBasedDeduplication=false` (so
   * the deduplication ids the driver generates are what keeps identical bodies apart); the
   * dead-letter queue is FIFO too, as SQS requires for a FIFO source queue.
   */
  readonly fifo?: boolean;
}

/**
 * A queue harness for one SQS emulator: every open() creates a fresh queue with the native SDK
 * (and, for deadLetter, a DLQ plus a RedrivePolicy so SQS's own dead-lettering is exercised),
 * then opens it by URL.
 */
export function sqsHarness(
  emulator: 'moto' | 'elasticmq' | 'localstack',
  reportName: string,
  options: SqsHarnessOptions = {},
): QueueHarness {
  const fifo = options.fifo === true;
  const suffix = fifo ? '.fifo' : '';
  const kind: Record<string, string> = fifo ? { FifoQueue: 'true', ContentBasedDeduplication: 'false' } : {};
  const { target, notRun } = awsTarget(emulator, 'SQS');
  let admin: SQSClient | undefined;
  const clientFor = (t: AwsTarget) =>
    createSqsClient({ endpoint: t.endpoint, region: t.region, clientConfig: { credentials: t.credentials } });
  return {
    adapter: 'aws',
    emulator,
    reportName,
    notRun,
    async beforeAll() {
      if (target) admin = clientFor(target);
    },
    async afterAll() {
      admin?.destroy();
    },
    async open(opts = {}) {
      if (!target || !admin) throw new Error(`${emulator} is not available`);
      const client = admin;
      const base = `pc-${rand()}`;
      const name = `${base}${suffix}`;
      const attributes: Record<string, string> = { ...kind };
      if (opts.visibilityTimeoutSeconds !== undefined)
        attributes.VisibilityTimeout = String(opts.visibilityTimeoutSeconds);
      const created: string[] = [];
      let dlqName: string | undefined;
      if (opts.deadLetter) {
        dlqName = `${base}-dlq${suffix}`;
        const dlq = await client.send(new CreateQueueCommand({ QueueName: dlqName, Attributes: kind }));
        created.push(dlq.QueueUrl!);
        const arn = await client.send(
          new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl!, AttributeNames: ['QueueArn'] }),
        );
        attributes.RedrivePolicy = JSON.stringify({
          deadLetterTargetArn: arn.Attributes!.QueueArn,
          maxReceiveCount: opts.deadLetter.maxDeliveries,
        });
      }
      const q = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
      created.push(q.QueueUrl!);
      const open = (n: string) =>
        openQueue<unknown>(
          `sqs://${n}?endpoint=${encodeURIComponent(target.endpoint)}&region=${target.region}`,
          {
            driverOptions: { clientConfig: { credentials: target.credentials } },
          },
        );
      const queue = await open(name);
      const deadLetter = dlqName ? await open(dlqName) : undefined;
      return {
        queue,
        ...(deadLetter ? { deadLetter } : {}),
        cleanup: async () => {
          await queue.close();
          await deadLetter?.close();
          for (const url of created)
            await client.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => {});
        },
      };
    },
  };
}
