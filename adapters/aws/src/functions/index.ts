export type * from './events.js';
export {
  type HttpEventKind,
  handleHttpEvent,
  httpEventKind,
  requestFromV1,
  requestFromV2,
  resultV1,
  resultV2,
} from './http.js';
export {
  eventBridgeSchedule,
  type LambdaHandler,
  type LambdaNative,
  type LambdaOptions,
  type LambdaResult,
  lambda,
} from './lambda.js';
export { type RuntimeHandler, type RuntimeLoopOptions, runLambdaRuntime } from './runtime-api.js';
export {
  decodeS3Key,
  handleS3Event,
  handleScheduledEvent,
  handleSqsEvent,
  s3RecordToBlobEvent,
  sqsRecordToDriverMessage,
} from './triggers.js';
