import { isPolycloudError } from '@polycloud/core';
import type { LambdaContext } from './events.js';

/** A handler as the loop calls it (what `lambda(fn)` returns). */
export type RuntimeHandler = (event: unknown, context: LambdaContext) => Promise<unknown>;

/** Options of `runLambdaRuntime`, the Runtime API loop for custom runtimes and local emulation. */
export interface RuntimeLoopOptions {
  /** host:port of the Runtime API; default AWS_LAMBDA_RUNTIME_API. */
  readonly api?: string;
  /** Stops the loop after the current invocation (the pending poll is cut). */
  readonly signal?: AbortSignal;
}

/** The error document the Runtime API takes: name and message only, never a stack trace. */
function errorDocument(err: unknown): { errorType: string; errorMessage: string } {
  if (isPolycloudError(err)) return { errorType: `PolycloudError/${err.code}`, errorMessage: err.message };
  if (err instanceof Error) return { errorType: err.name, errorMessage: err.message };
  return { errorType: 'Error', errorMessage: String(err) };
}

/**
 * A minimal Lambda runtime: polls the Runtime API for invocations, runs `handler` and posts
 * its result (or its error) back. For custom runtimes (`provided.al2023`: a `bootstrap` that
 * runs this) and for Lambda's Runtime Interface Emulator, where the aws-lambda-ric client
 * (which compiles native code) is not wanted.
 *
 * @example
 * // bootstrap.mjs
 * await runLambdaRuntime(lambda(api));
 */
export async function runLambdaRuntime(
  handler: RuntimeHandler,
  opts: RuntimeLoopOptions = {},
): Promise<void> {
  const api = opts.api ?? process.env.AWS_LAMBDA_RUNTIME_API;
  if (!api)
    throw new Error(
      'runLambdaRuntime: AWS_LAMBDA_RUNTIME_API is not set (run it inside Lambda or the emulator)',
    );
  const base = `http://${api}/2018-06-01/runtime`;
  while (!opts.signal?.aborted) {
    let next: Response;
    try {
      next = await fetch(`${base}/invocation/next`, opts.signal ? { signal: opts.signal } : {});
    } catch (err) {
      if (opts.signal?.aborted) return;
      throw err;
    }
    const requestId = next.headers.get('lambda-runtime-aws-request-id') ?? '';
    const deadlineMs = Number(next.headers.get('lambda-runtime-deadline-ms'));
    const event = (await next.json()) as unknown;
    const context: LambdaContext = {
      awsRequestId: requestId,
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'function',
      invokedFunctionArn: next.headers.get('lambda-runtime-invoked-function-arn') ?? '',
      getRemainingTimeInMillis: () => (Number.isFinite(deadlineMs) ? deadlineMs - Date.now() : 900_000),
    };
    try {
      const result = await handler(event, context);
      await fetch(`${base}/invocation/${requestId}/response`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(result ?? null),
      }).then((r) => r.arrayBuffer());
    } catch (err) {
      const doc = errorDocument(err);
      await fetch(`${base}/invocation/${requestId}/error`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'lambda-runtime-function-error-type': doc.errorType },
        body: JSON.stringify(doc),
      }).then((r) => r.arrayBuffer());
    }
  }
}
