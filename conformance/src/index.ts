/**
 * @polycloud/conformance — the shared conformance suites every polycloud adapter runs.
 *
 * An adapter's test file is one call per service:
 *
 * @example
 * import { bucketSuite } from '@polycloud/conformance';
 * bucketSuite({ adapter: 'memory', emulator: null, open: async () => ({ bucket: memoryBucket() }) });
 *
 * Each run writes reports/conformance/<reportName>.json at the repository root; see
 * docs/conformance.md. Emulator start-up lives in `@polycloud/conformance/emulators`.
 */
export type { EmulatorGap } from './emulators/gaps.js';
export {
  type PrivateEmulator,
  type RestartOptions,
  startPrivateEmulator,
} from './emulators/supervisor.js';
export type { EmulatorId } from './emulators/types.js';
export { type Fault, FaultProxy, mulberry32, type ProxyStats } from './faults/proxy.js';
export { type RecordedRequest, type RecordingProxy, startRecordingProxy } from './faults/recording-proxy.js';
export type {
  FunctionsBlobRig,
  FunctionsHarness,
  FunctionsHttpRig,
  FunctionsQueueRig,
} from './functions-harness.js';
export type { BucketHarness, HarnessInfo, KvHarness, QueueHarness } from './harness.js';
export {
  type BodyResult,
  buildReport,
  type ConformanceReport,
  type ConformanceService,
  classify,
  errorReason,
  findRepoRoot,
  gapReason,
  notRunReport,
  type ReportSource,
  readReport,
  reportPath,
  safeReportName,
  TEST_OUTCOMES,
  type TestOutcome,
  type TestRecord,
  writeReport,
} from './report.js';
export { BLOB_INVALID_KEY_CASES, BLOB_KEY_CASES, bucketSuite } from './suites/bucket.js';
export {
  type FaultHarness,
  type FaultService,
  faultSuite,
  type ReliabilityReport,
  writeReliabilityReport,
} from './suites/faults.js';
export {
  type Hooks,
  type RegisterTest,
  runSuite,
  type SuiteOptions,
  type TestBody,
  type TestCtx,
  type TestOptions,
} from './suites/framework.js';
export { functionsSuite, testApp as functionsTestApp } from './suites/functions.js';
export {
  FUZZ_INPUTS,
  FUZZ_SEED,
  type FuzzHarness,
  fuzzSuite,
  hostile,
  hostileKey,
  optionsOf,
  portable,
} from './suites/fuzz.js';
export {
  checkBytes,
  expectCode,
  expectPolycloudError,
  expectUnsupported,
  GeneratedBody,
  hashStream,
  randomData,
  randomName,
} from './suites/helpers.js';
export { KV_INVALID_KEY_CASES, KV_JSON_CASES, KV_KEY_CASES, kvSuite } from './suites/kv.js';
export {
  ChildScript,
  type ProcessHarness,
  type ProcessResources,
  type ProcessTarget,
  processSuite,
} from './suites/process.js';
export { QUEUE_JSON_CASES, queueSuite } from './suites/queue.js';
export {
  type RestartHarness,
  type RestartService,
  type RestartTarget,
  restartSuite,
} from './suites/restarts.js';
