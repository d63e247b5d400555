import { kvSuite } from '@polycloud/conformance';
import { dynamoHarness } from './dynamodb-harness.js';

kvSuite(dynamoHarness('dynalite', 'aws-kv-dynalite'));
