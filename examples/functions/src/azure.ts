/**
 * Azure Functions entry (v4 programming model; package.json "main" points at the built file).
 * host.json must set extensions.queues.messageEncoding to "none" (see DEPLOY.md).
 */
import { app as azureApp } from '@azure/functions';
import { register } from '@polycloud/azure/functions';
import * as app from './app.js';

register(azureApp, 'api', app.api, { route: '{*path}' });
register(azureApp, 'worker', app.worker, { queueName: 'jobs', connection: 'AzureWebJobsStorage' });
register(azureApp, 'nightly', app.nightly);
register(azureApp, 'onBlob', app.onBlob, { eventGrid: true });
