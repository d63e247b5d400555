/**
 * The Lambda event and context shapes the bindings read (the fields used, not every field).
 * Sources: AWS Lambda developer guide, "Using Lambda with API Gateway / Application Load
 * Balancer / Amazon SQS / Amazon S3 / EventBridge Scheduler", and Lambda function URLs payload
 * format 2.0.
 */

/** The Lambda context object (Node.js runtime). */
export interface LambdaContext {
  readonly awsRequestId: string;
  readonly functionName?: string;
  readonly invokedFunctionArn?: string;
  /** Milliseconds left before Lambda stops the invocation; the bindings turn it into `ctx.deadline`. */
  getRemainingTimeInMillis(): number;
}

/** API Gateway REST API (payload 1.0) and ALB requests. */
export interface ApiGatewayV1Event {
  readonly httpMethod: string;
  readonly path: string;
  readonly headers?: Record<string, string | undefined> | null;
  readonly multiValueHeaders?: Record<string, string[] | undefined> | null;
  readonly queryStringParameters?: Record<string, string | undefined> | null;
  readonly multiValueQueryStringParameters?: Record<string, string[] | undefined> | null;
  readonly body?: string | null;
  readonly isBase64Encoded?: boolean;
  readonly requestContext?: {
    readonly requestId?: string;
    readonly elb?: { readonly targetGroupArn: string };
  };
}

/** HTTP API (payload 2.0) and Lambda function URL requests. */
export interface ApiGatewayV2Event {
  readonly version: '2.0';
  readonly rawPath: string;
  readonly rawQueryString?: string;
  readonly cookies?: string[];
  readonly headers?: Record<string, string | undefined>;
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
  readonly requestContext: {
    readonly requestId?: string;
    readonly domainName?: string;
    readonly http: { readonly method: string };
  };
}

/** The response an API Gateway REST (v1) or ALB integration expects back from the function. */
export interface ApiGatewayV1Result {
  statusCode: number;
  statusDescription?: string;
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  body: string;
  isBase64Encoded: boolean;
}

/** The response an HTTP API (v2) or function URL integration expects back (payload format 2.0). */
export interface ApiGatewayV2Result {
  statusCode: number;
  headers: Record<string, string>;
  cookies?: string[];
  body: string;
  isBase64Encoded: boolean;
}

/** One SQS message of a batch, as the SQS event source mapping delivers it. */
export interface SqsRecord {
  readonly messageId: string;
  readonly receiptHandle?: string;
  readonly body: string;
  readonly attributes?: Record<string, string | undefined>;
  readonly messageAttributes?: Record<
    string,
    {
      readonly dataType: string;
      readonly stringValue?: string | null;
      readonly binaryValue?: string | null;
      readonly stringListValues?: string[];
    }
  >;
  readonly eventSource: 'aws:sqs';
  readonly eventSourceARN: string;
}

/** The batch of messages an SQS event source mapping invokes the function with. */
export interface SqsEvent {
  readonly Records: readonly SqsRecord[];
}

/** The partial batch response (requires ReportBatchItemFailures on the event source mapping). */
export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/** One object change of an S3 event notification; the key is URL-encoded (see `decodeS3Key`). */
export interface S3EventRecord {
  readonly eventSource: 'aws:s3';
  readonly eventName: string;
  readonly eventTime: string;
  readonly s3: {
    readonly bucket: { readonly name: string };
    readonly object: { readonly key: string; readonly size?: number; readonly eTag?: string };
  };
}

/** The S3 event notification Lambda is invoked with for object created / removed events. */
export interface S3Event {
  readonly Records: readonly S3EventRecord[];
}

/** An EventBridge rule's "Scheduled Event". */
export interface ScheduledEvent {
  readonly 'detail-type': 'Scheduled Event';
  readonly source: 'aws.events' | 'aws.scheduler';
  readonly id?: string;
  readonly time: string;
  readonly resources?: readonly string[];
}
