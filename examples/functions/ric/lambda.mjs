// LAMBDA_TASK_ROOT of the aws-lambda-ric test run: the handler file the runtime interface client
// loads (_HANDLER=lambda.api). The process runs with tsx's loader, so the TypeScript entry needs
// no build here; a deployment ships the built lambda.js instead.
export * from '../src/lambda.ts';
