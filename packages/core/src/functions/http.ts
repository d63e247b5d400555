import { invalidArgument } from '../errors.js';
import type { FunctionContext } from './context.js';

/** An HTTP handler on the Web Fetch API. */
export type HttpHandler = (req: Request, ctx: FunctionContext) => Response | Promise<Response>;

/** A portable HTTP function; bind it with a platform binding or `serve()`. */
export interface HttpFunction {
  readonly kind: 'http';
  readonly handler: HttpHandler;
}

/**
 * Declares an HTTP function.
 *
 * @example
 * export const api = httpFunction(async (req) => new Response(`hello ${new URL(req.url).searchParams.get('name')}`));
 */
export function httpFunction(handler: HttpHandler): HttpFunction {
  if (typeof handler !== 'function')
    throw invalidArgument('httpFunction: handler must be a function', { service: 'functions' });
  return { kind: 'http', handler };
}

/**
 * Runs the handler. A throw (or a non-Response) becomes a bare 500 whose body never carries the
 * error: the error goes to the context's logger instead.
 */
export async function invokeHttp(fn: HttpFunction, req: Request, ctx: FunctionContext): Promise<Response> {
  try {
    const res = await fn.handler(req, ctx);
    if (!(res instanceof Response)) {
      ctx.logger.error('the HTTP handler did not return a Response', { returned: typeof res });
      return internalError();
    }
    return res;
  } catch (err) {
    ctx.logger.error('the HTTP handler threw', {
      error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    });
    return internalError();
  }
}

function internalError(): Response {
  return new Response('Internal Server Error', {
    status: 500,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
  });
}
