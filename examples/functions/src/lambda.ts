/**
 * AWS Lambda entry: one function per export (handler names lambda.api, lambda.worker, …).
 * See DEPLOY.md for the event sources.
 */
import { lambda } from '@polycloud/aws/functions';
import * as app from './app.js';

export const api = lambda(app.api);
export const worker = lambda(app.worker);
export const nightly = lambda(app.nightly);
export const onBlob = lambda(app.onBlob);
