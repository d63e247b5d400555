import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';

/**
 * A safety net under drivers whose SDK takes no AbortSignal (the Cloud Storage client's
 * requests, for one, have neither a signal nor a working timeout): every node:http(s) request
 * an SDK starts while a call runs inside `abortHttpOn(signal, ...)` is destroyed when that
 * signal aborts. Without it, a request to a dead endpoint outlives its timed-out call and keeps
 * the process alive for minutes. Requests started after the abort (a driver's cleanup, such as
 * aborting a multipart upload) are left alone; drivers that honour their signal see no change.
 */
const scope = new AsyncLocalStorage<AbortSignal>();
let listening = false;

function onRequestStart(message: unknown): void {
  const signal = scope.getStore();
  if (signal === undefined || signal.aborted) return;
  const request = (message as { request?: ClientRequest }).request;
  if (request === undefined || typeof request.destroy !== 'function') return;
  const onAbort = () => {
    if (!request.destroyed) request.destroy(signal.reason instanceof Error ? signal.reason : undefined);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  request.once('close', () => signal.removeEventListener('abort', onAbort));
}

/** Runs `fn` so that node:http requests it starts end when `signal` aborts. */
export function abortHttpOn<T>(signal: AbortSignal | undefined, fn: () => T): T {
  if (signal === undefined) return fn();
  if (!listening) {
    listening = true;
    subscribe('http.client.request.start', onRequestStart);
  }
  return scope.run(signal, fn);
}
