import { functionsSuite } from '@polycloud/conformance';
import { cloudFunctionsHarness } from './functions-harness.js';

// The Cloud Functions binding served by functions-framework over real HTTP, with messages
// sent by the adapter's Queue.send to pstest and objects written to fake-gcs-server.
functionsSuite(cloudFunctionsHarness({ reportName: 'gcp-functions', mode: 'cloudevent' }));
functionsSuite(cloudFunctionsHarness({ reportName: 'gcp-functions-http', mode: 'http' }));
