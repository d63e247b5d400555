import { queueSuite } from '@polycloud/conformance';
import { sqsHarness } from './sqs-harness.js';

// The whole queue suite again on ElasticMQ FIFO queues (`.fifo`), the second opinion.
queueSuite(sqsHarness('elasticmq', 'aws-queue-fifo-elasticmq', { fifo: true }));
