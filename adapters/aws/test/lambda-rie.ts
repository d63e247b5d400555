import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { type LambdaContext, runLambdaRuntime } from '@polycloud/aws/functions';
import { findLambdaRie } from '@polycloud/conformance/emulators';
import { type ErrorCode, PolycloudError } from '@polycloud/core';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** The error a Lambda invocation returned, rebuilt (PolycloudErrors keep their code). */
function invocationError(doc: { errorType: string; errorMessage: string }): Error {
  const [name, code] = doc.errorType.split('/');
  if (name === 'PolycloudError' && code)
    return new PolycloudError({ code: code as ErrorCode, message: doc.errorMessage });
  return Object.assign(new Error(doc.errorMessage), { name: doc.errorType });
}

/**
 * AWS Lambda's Runtime Interface Emulator with a Runtime API loop. `bootstrap`:
 * - a command (e.g. ['node', 'bootstrap.mjs']): RIE starts it on the first invoke, the loop runs
 *   in that process, as in Lambda;
 * - 'in-process': RIE starts a placeholder and this process runs runLambdaRuntime against the
 *   Runtime API with `handler` (so a test's closures see the invocations).
 */
export async function startRie(opts: {
  bootstrap: readonly string[] | 'in-process';
  handler?: (event: unknown, context: LambdaContext) => Promise<unknown>;
  env?: Record<string, string>;
  cwd?: string;
}): Promise<{ invoke(event: unknown): Promise<unknown>; stop(): Promise<void> } | { notRun: string }> {
  const rie = findLambdaRie();
  if ('notRun' in rie) return rie;
  const apiPort = await freePort();
  const invokePort = await freePort();
  const bootstrap =
    opts.bootstrap === 'in-process'
      ? [process.execPath, '-e', 'setInterval(() => {}, 1 << 30)']
      : opts.bootstrap;
  const child: ChildProcess = spawn(
    rie.path,
    [
      '--log-level',
      'error',
      '--runtime-api-address',
      `127.0.0.1:${apiPort}`,
      '--runtime-interface-emulator-address',
      `127.0.0.1:${invokePort}`,
      ...bootstrap,
    ],
    {
      cwd: opts.cwd,
      env: {
        ...process.env,
        AWS_LAMBDA_FUNCTION_TIMEOUT: '120',
        AWS_LAMBDA_FUNCTION_NAME: 'polycloud-test',
        ...opts.env,
      },
      stdio: ['ignore', 'inherit', 'inherit'],
      detached: true,
    },
  );
  const stopLoop = new AbortController();
  let loop: Promise<void> | undefined;
  if (opts.bootstrap === 'in-process') {
    const handler = opts.handler!;
    loop = (async () => {
      // The Runtime API is up once RIE has started the (placeholder) runtime on the first invoke.
      while (!stopLoop.signal.aborted) {
        await runLambdaRuntime(handler, { api: `127.0.0.1:${apiPort}`, signal: stopLoop.signal }).catch(
          () => {},
        );
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
  }
  const url = `http://127.0.0.1:${invokePort}/2015-03-31/functions/function/invocations`;
  let chain: Promise<unknown> = Promise.resolve();
  const invokeOnce = async (event: unknown): Promise<unknown> => {
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(url, { method: 'POST', body: JSON.stringify(event) });
      } catch (err) {
        // RIE takes a moment to listen after it starts.
        if (attempt < 100) {
          await new Promise((r) => setTimeout(r, 50));
          continue;
        }
        throw err;
      }
      const text = await res.text();
      if (!res.ok) throw new Error(`RIE answered ${res.status}: ${text}`);
      const body = text.length > 0 ? (JSON.parse(text) as unknown) : null;
      const doc = body as { errorType?: unknown; errorMessage?: unknown } | null;
      if (
        doc &&
        typeof doc === 'object' &&
        typeof doc.errorType === 'string' &&
        typeof doc.errorMessage === 'string'
      ) {
        throw invocationError(doc as { errorType: string; errorMessage: string });
      }
      return body;
    }
  };
  return {
    // Lambda runs one invocation per execution environment at a time: so does this.
    invoke(event) {
      const p = chain.then(() => invokeOnce(event));
      chain = p.catch(() => {});
      return p;
    },
    async stop() {
      stopLoop.abort();
      await loop;
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    },
  };
}
