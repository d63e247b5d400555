export {
  type AzureApp,
  type AzureFunctionsNative,
  type AzureFunctionsOptions,
  azureEventGrid,
  azureHttp,
  azureStorageBlob,
  azureStorageQueue,
  azureTimer,
  eventGridToBlobEvent,
  ncrontabSchedule,
  queueItemText,
  type RegisterOptions,
  register,
  requestFromAzure,
  responseToAzure,
} from './azure-functions.js';
export { parseSetCookie } from './cookies.js';
