import { queueSuite } from '@polycloud/conformance';
import { sqsHarness } from './sqs-harness.js';

queueSuite(sqsHarness('localstack', 'aws-queue-localstack'));
