import { queueSuite } from '../../../conformance/src/suites/queue.js';
import { sqsHarness } from './sqs-harness.js';

queueSuite(sqsHarness('elasticmq', 'aws-queue-elasticmq'));
