/**
 * A custom-runtime bootstrap (provided.al2023, or Lambda's Runtime Interface Emulator): runs the
 * handler named by _HANDLER ("lambda.api", "lambda.worker", …) in a Runtime API loop. On the
 * managed Node.js runtime this file is not needed: point the handler at lambda.api directly.
 */
import { type LambdaHandler, runLambdaRuntime } from '@polycloud/aws/functions';
import * as handlers from './lambda.js';

const name = (process.env._HANDLER ?? 'lambda.api').split('.').pop() ?? 'api';
const handler = (handlers as Record<string, LambdaHandler>)[name];
if (!handler) {
  console.error(`_HANDLER names no handler of lambda.ts: ${process.env._HANDLER}`);
  process.exit(1);
}
await runLambdaRuntime(handler);
