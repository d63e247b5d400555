/**
 * Cloud Functions entry (functions-framework): `--target=api` (HTTP), `worker` (Pub/Sub
 * CloudEvent), `nightly` (Cloud Scheduler HTTP target), `onBlob` (Cloud Storage CloudEvent).
 */
import * as ff from '@google-cloud/functions-framework';
import { cloudFunctionsEvent, cloudFunctionsHttp } from '@polycloud/gcp/functions';
import * as app from './app.js';

ff.http('api', cloudFunctionsHttp(app.api, { timeoutSeconds: 60 }));
ff.cloudEvent('worker', cloudFunctionsEvent(app.worker, { timeoutSeconds: 60 }));
ff.http('nightly', cloudFunctionsHttp(app.nightly, { timeoutSeconds: 60 }));
ff.cloudEvent('onBlob', cloudFunctionsEvent(app.onBlob, { timeoutSeconds: 60 }));
