import { functionsSuite } from '@polycloud/conformance';
import { azureFunctionsHarness } from './functions-harness.js';

// Library-level: @azure/functions types driven with host-shaped inputs; messages sent by the
// adapter's Queue.send to azurite, blobs written to azurite.
functionsSuite(azureFunctionsHarness());
