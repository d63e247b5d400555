export {
  type CloudFunctionsEventHandler,
  type CloudFunctionsHttpHandler,
  type CloudFunctionsNative,
  type CloudFunctionsOptions,
  cloudEventFromHttp,
  cloudFunctionsEvent,
  cloudFunctionsHttp,
  cloudSchedulerSchedule,
} from './cloud-functions.js';
export * from './events.js';
export {
  checkPushBody,
  handleCloudEvent,
  pushBodyToDriverMessage,
  runPushedMessage,
  storageEventToBlobEvent,
} from './triggers.js';
