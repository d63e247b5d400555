import { queueSuite } from '@polycloud/conformance';
import { sqsHarness } from './sqs-harness.js';

queueSuite(sqsHarness('elasticmq', 'aws-queue-elasticmq'));
