import { lambda } from '@polycloud/aws/functions';
import { functionsSuite } from '@polycloud/conformance';
import { findLambdaRie } from '@polycloud/conformance/emulators';
import type { PortableFunction } from '@polycloud/core';
import { lambdaHarness } from './functions-harness.js';
import { startRie } from './lambda-rie.js';

// The Lambda binding under AWS's Runtime Interface Emulator: every event goes through RIE's
// invoke API and the Runtime API to a runtime loop (runLambdaRuntime) and the result back. The
// loop runs in this process so the suite's handlers are observable; examples/functions runs the
// app in a real runtime child under RIE with both aws-lambda-ric and runLambdaRuntime.
let current: PortableFunction | undefined;
let rie: Awaited<ReturnType<typeof startRie>> | undefined;

// Missing RIE: not-run locally; in CI (where emulators:install builds it) a failure.
const found = findLambdaRie();
const notRun = 'notRun' in found && process.env.CI !== 'true' ? found.notRun : undefined;

const h = lambdaHarness({
  notRun,
  reportName: 'aws-functions-rie',
  httpFormat: 'v2',
  runtime: 'Lambda RIE + runtime API loop',
  invoke: () => async (fn, event) => {
    if (!rie || 'notRun' in rie) throw new Error('RIE is not running');
    const run = rie;
    // One invocation at a time (RIE serialises them), so the function for this event is `current`.
    return serial(async () => {
      current = fn;
      return run.invoke(event);
    });
  },
  async before() {
    rie = await startRie({
      bootstrap: 'in-process',
      handler: (event, context) => lambda(current!)(event, context),
    });
    if ('notRun' in rie) throw new Error(rie.notRun);
  },
  async after() {
    if (rie && !('notRun' in rie)) await rie.stop();
  },
});

let queue: Promise<unknown> = Promise.resolve();
function serial<T>(fn: () => Promise<T>): Promise<T> {
  const p = queue.then(fn);
  queue = p.catch(() => {});
  return p;
}

functionsSuite(h);
