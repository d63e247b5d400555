import { queueSuite } from '@polycloud/conformance';
import { sqsHarness } from './sqs-harness.js';

// The whole queue suite again on FIFO queues (`.fifo`), so groupId and deduplicationId are exercised.
queueSuite(sqsHarness('moto', 'aws-queue-fifo', { fifo: true }));
