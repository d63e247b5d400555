import { functionsSuite } from '@polycloud/conformance';
import { invokeInProcess, lambdaHarness } from './functions-harness.js';

// The Lambda binding in this process, one report per HTTP front end (the queue, schedule and
// blob tests run in each, against moto). The Runtime Interface Emulator run is in
// functions-rie.conformance.test.ts.
functionsSuite(
  lambdaHarness({
    reportName: 'aws-functions',
    httpFormat: 'v2',
    runtime: 'in-process, v2 events',
    invoke: () => invokeInProcess,
  }),
);
functionsSuite(
  lambdaHarness({
    reportName: 'aws-functions-apigw-v1',
    httpFormat: 'v1',
    runtime: 'in-process, REST v1 events',
    invoke: () => invokeInProcess,
  }),
);
functionsSuite(
  lambdaHarness({
    reportName: 'aws-functions-alb',
    httpFormat: 'alb',
    runtime: 'in-process, ALB events',
    invoke: () => invokeInProcess,
  }),
);
