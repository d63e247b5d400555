/** Local entry: everything in one process. `npm start`, then PUT http://127.0.0.1:3000/uploads/a.txt. */
import { serve } from '@polycloud/core';
import { api, nightly, onBlob, resourcesOf, worker } from './app.js';

const { bucket, queue } = await resourcesOf();
const served = await serve({
  http: api,
  queues: [{ fn: worker, queue }],
  schedules: [nightly],
  blobEvents: [{ fn: onBlob, bucket }],
});
console.log(`listening on ${served.url}`);
await served.done;
console.log('stopped');
