import { bucketSuite } from '@polycloud/conformance';
import { s3Harness } from './s3-harness.js';

bucketSuite(s3Harness('moto'));
