import type { EmulatorId } from './types.js';

/**
 * A documented difference between an emulator and the real service. A conformance test is
 * reported "emulator-gap" only through this list (never by adapter name), with `reference`.
 * The human-readable list is docs/emulators.md ("Known emulator gaps"); keep both in step.
 */
export interface EmulatorGap {
  readonly id: string;
  readonly emulator: EmulatorId;
  /** Conformance test names (as registered by the suites) this gap excuses. */
  readonly tests: readonly string[];
  readonly description: string;
  /** Where the gap is documented or was observed (issue URL, doc link, or docs/emulators.md anchor). */
  readonly reference: string;
  /** Emulator version the gap was reproduced with (conformance/test/harness/gaps.test.ts re-checks it). */
  readonly verified?: string;
}

/**
 * Known emulator behaviours that differ from the real service; a failing test listed here is
 * reported as `emulator-gap` instead of `failed`.
 */
export const EMULATOR_GAPS: readonly EmulatorGap[] = [
  // ------------------------------------------------------------------ fake-gcs-server
  {
    id: 'fake-gcs-delete-preconditions',
    emulator: 'fake-gcs-server',
    tests: ['deleteIfMatch: a stale etag fails and keeps the object, the current etag deletes'],
    description:
      'DELETE ignores ifGenerationMatch and ifMetagenerationMatch: the object is deleted whatever the ' +
      'condition, where Cloud Storage answers 412 and keeps it.',
    reference: 'https://github.com/fsouza/fake-gcs-server/issues/1282',
    verified: 'fake-gcs-server v1.56.1',
  },
  {
    id: 'fake-gcs-read-preconditions',
    emulator: 'fake-gcs-server',
    tests: ['getIfMatch: the current etag reads, a stale etag fails'],
    description:
      'Object reads (media download and metadata GET) ignore ifGenerationMatch: a stale generation is ' +
      'served instead of failing with 412.',
    reference: 'https://github.com/fsouza/fake-gcs-server/issues/1076',
    verified: 'fake-gcs-server v1.56.1',
  },
  {
    id: 'fake-gcs-rewrite-preconditions',
    emulator: 'fake-gcs-server',
    tests: [
      'copy ifMatch: a stale source etag fails',
      'copyIfNoneMatch: copy onto an existing key fails and leaves it unchanged',
    ],
    description:
      'Copy/rewrite ignores ifSourceGenerationMatch and the destination ifGenerationMatch (0 = must not ' +
      'exist): the copy happens where Cloud Storage answers 412. Fixed upstream after v1.56.1 (PR #2343), ' +
      'not yet released.',
    reference: 'https://github.com/fsouza/fake-gcs-server/pull/2343',
    verified: 'fake-gcs-server v1.56.1',
  },
  // fake-gcs-server gaps found by the GCP adapter; reproduced in adapters/gcp/test/emulator-gaps.test.ts
  {
    id: 'fake-gcs-list-prefix-paging',
    emulator: 'fake-gcs-server',
    tests: ['list: delimiter listing pages through items and prefixes once each'],
    description:
      'With a delimiter, objects.list counts only objects towards maxResults and returns every common prefix ' +
      'on every page, where Cloud Storage counts items and prefixes together and pages through both.',
    reference: 'https://github.com/fsouza/fake-gcs-server/blob/v1.56.1/fakestorage/object.go',
    verified: 'fake-gcs-server v1.56.1',
  },
  {
    id: 'fake-gcs-resumable-content-type',
    emulator: 'fake-gcs-server',
    tests: ['headers: content headers and metadata are kept on the multipart path'],
    description:
      "A resumable upload's contentType is taken from the Content-Type header of the chunk requests, " +
      'replacing the contentType of the session metadata; Cloud Storage keeps the session metadata.',
    reference: 'https://github.com/fsouza/fake-gcs-server/blob/v1.56.1/fakestorage/upload.go',
    verified: 'fake-gcs-server v1.56.1',
  },
  {
    id: 'fake-gcs-signed-url-signature',
    emulator: 'fake-gcs-server',
    tests: ['signedUrl: a GET URL does not allow writing'],
    description:
      'V4 signatures are not verified: a URL signed for GET also accepts a PUT (any request with ' +
      'X-Goog-Algorithm is served). Cloud Storage answers 403 SignatureDoesNotMatch.',
    reference: 'https://github.com/fsouza/fake-gcs-server/blob/v1.56.1/fakestorage/upload.go',
    verified: 'fake-gcs-server v1.56.1',
  },
  {
    id: 'fake-gcs-signed-url-expiry',
    emulator: 'fake-gcs-server',
    tests: ['signedUrl: a GET URL stops working after expiresIn'],
    description:
      'X-Goog-Date and X-Goog-Expires are not checked, so an expired signed URL still works; Cloud Storage ' +
      'answers 400 ExpiredToken.',
    reference: 'https://github.com/fsouza/fake-gcs-server/blob/v1.56.1/fakestorage/object.go',
    verified: 'fake-gcs-server v1.56.1',
  },
  // ------------------------------------------------------------------ moto
  {
    id: 'moto-s3-copy-conditions',
    emulator: 'moto',
    tests: [
      'copy ifMatch: a stale source etag fails',
      'copyIfNoneMatch: copy onto an existing key fails and leaves it unchanged',
    ],
    description:
      'CopyObject honours only x-amz-copy-source-if-none-match: a stale x-amz-copy-source-if-match and a ' +
      'destination If-None-Match: * are ignored and the copy succeeds, where S3 answers 412 ' +
      '(PreconditionFailed). PutObject, GetObject and DeleteObject conditions do work.',
    reference:
      'https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html (moto s3/responses.py copy path)',
    verified: 'moto 5.2.5',
  },
  {
    id: 'moto-sqs-standard-queue-dedup-id',
    emulator: 'moto',
    tests: [],
    description:
      'SendMessage on a standard queue accepts MessageDeduplicationId, which SQS rejects ' +
      '(InvalidParameterValue: only FIFO queues take it). ElasticMQ rejects it like SQS.',
    reference: 'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html',
    verified: 'moto 5.2.5',
  },
  {
    id: 'moto-sqs-invalid-characters',
    emulator: 'moto',
    tests: [],
    description:
      'Message bodies with characters SQS does not allow (e.g. U+0000) are accepted; SQS answers ' +
      'InvalidMessageContents. A lone surrogate makes moto answer HTTP 500.',
    reference: 'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html',
    verified: 'moto 5.2.5',
  },
  // moto S3 gaps found by the AWS adapter; reproduced in adapters/aws/test/emulator-gaps.test.ts
  {
    id: 'moto-s3-line-feed-keys',
    emulator: 'moto',
    tests: ['keys: ASCII control characters round-trips through put, get, head, list and delete'],
    description:
      'Object keys containing a line feed (U+000A) cannot be routed: moto matches the key with the regular ' +
      'expression `.+`, so PutObject/GetObject answer an HTML 404. Every other control character works. S3 ' +
      'stores any UTF-8 key.',
    reference: 'https://github.com/getmoto/moto/blob/5.2.5/moto/s3/urls.py',
    verified: 'moto 5.2.5',
  },
  {
    id: 'moto-s3-complete-if-none-match-race',
    emulator: 'moto',
    tests: ['ifNoneMatch: exactly one of two concurrent multipart writers wins'],
    description:
      'CompleteMultipartUpload checks If-None-Match: * and then completes without a lock, so two concurrent ' +
      'completions of one key both succeed (sequentially the second gets 412). S3 lets exactly one win and ' +
      'answers the other 412 or 409 ConditionalRequestConflict.',
    reference: 'https://github.com/getmoto/moto/blob/5.2.5/moto/s3/responses.py',
    verified: 'moto 5.2.5',
  },
  {
    id: 'moto-dynamodb-concurrent-update',
    emulator: 'moto',
    tests: ['increment: 20 concurrent callers end exact'],
    description:
      'moto serves requests on threads and its DynamoDB backend applies UpdateItem without a lock, so concurrent ' +
      'ADD updates to one item can be lost (20 concurrent raw UpdateItem ADD 1 calls ended at 19 in 2 of 30 ' +
      'rounds). DynamoDB applies each UpdateItem atomically; dynalite, the second opinion, passes this test.',
    reference: 'https://github.com/getmoto/moto/blob/5.2.5/moto/dynamodb/models/__init__.py',
    verified: 'moto 5.2.5',
  },
  {
    id: 'moto-s3-presigned-signature',
    emulator: 'moto',
    tests: ['signedUrl: a GET URL does not allow writing'],
    description:
      'Requests are not authenticated unless INITIAL_NO_AUTH_ACTION_COUNT is set, so presigned URL ' +
      'signatures are not verified: a URL signed for GET also accepts a PUT, even with a zeroed signature. ' +
      'S3 answers 403 SignatureDoesNotMatch.',
    reference: 'https://github.com/getmoto/moto/blob/5.2.5/moto/core/authorization.py',
    verified: 'moto 5.2.5',
  },
  {
    id: 'moto-s3-presigned-expiry',
    emulator: 'moto',
    tests: ['signedUrl: a GET URL stops working after expiresIn'],
    description:
      'For the same reason X-Amz-Date/X-Amz-Expires are not checked, so an expired presigned URL still ' +
      'works; S3 answers 403 AccessDenied (Request has expired).',
    reference: 'https://github.com/getmoto/moto/blob/5.2.5/moto/settings.py',
    verified: 'moto 5.2.5',
  },
  // moto SQS FIFO gaps found by the AWS adapter's FIFO conformance runs (aws-queue-fifo);
  // reproduced in adapters/aws/test/emulator-gaps.test.ts
  {
    id: 'moto-sqs-fifo-blocked-group-long-poll',
    emulator: 'moto',
    tests: [],
    description:
      'On a FIFO queue, ReceiveMessage decides which message groups are blocked (have a message in flight) once, ' +
      'when the call starts: a long poll (WaitTimeSeconds) that starts while the only waiting messages belong to a ' +
      'blocked group waits out its whole WaitTimeSeconds even when the in-flight message is deleted meanwhile. SQS ' +
      'returns as soon as a message is available (ElasticMQ returns the released message at once). Consumers on ' +
      'one busy group therefore run slower on moto; no conformance test fails because of it.',
    reference: 'https://github.com/getmoto/moto/blob/5.2.5/moto/sqs/models.py',
    verified: 'moto 5.2.5',
  },
  {
    id: 'moto-sqs-fifo-dedup-after-delete',
    emulator: 'moto',
    tests: [],
    description:
      'FIFO deduplication only compares against messages still in the queue: once a message is deleted, a send ' +
      'with the same MessageDeduplicationId within the 5-minute interval is delivered again. SQS accepts such a ' +
      'send but does not deliver it, whether or not the first message was already consumed (ElasticMQ does the ' +
      'same as SQS).',
    reference:
      'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/using-messagededuplicationid-property.html',
    verified: 'moto 5.2.5',
  },
  // ------------------------------------------------------------------ elasticmq
  {
    id: 'elasticmq-visibility-timeout-range',
    emulator: 'elasticmq',
    tests: [],
    description:
      'ReceiveMessage accepts VisibilityTimeout above 43200 s (12 h); SQS answers InvalidParameterValue.',
    reference:
      'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html',
    verified: 'elasticmq 1.7.1',
  },
  // ElasticMQ gap found by the AWS adapter's FIFO harness; reproduced in adapters/aws/test/emulator-gaps.test.ts
  {
    id: 'elasticmq-fifo-standard-dead-letter-queue',
    emulator: 'elasticmq',
    tests: [],
    description:
      'A FIFO queue accepts a standard queue as the deadLetterTargetArn of its RedrivePolicy; SQS rejects the ' +
      'combination (the dead-letter queue of a FIFO queue must also be a FIFO queue), and so does moto. The ' +
      'FIFO conformance harness always creates a FIFO dead-letter queue.',
    reference:
      'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html',
    verified: 'elasticmq 1.7.1',
  },
  // ------------------------------------------------------------------ localstack
  {
    id: 'localstack-s3-metadata-q-encoding',
    emulator: 'localstack',
    tests: [
      'metadata: keys are lower-cased and unicode values round-trip',
      'headers: content headers and metadata are kept on the multipart path',
      'copy: the copy is independent of the source and keeps headers and metadata',
      'copyBetween: streams an object between two buckets with its headers',
    ],
    description:
      'A metadata value stored as an RFC 2047 B-encoded word (=?UTF-8?B?...?=, how the AWS adapter ' +
      'stores non-ASCII values) comes back re-encoded as a Q-encoded word (=?UTF-8?Q?...?=); S3 returns ' +
      'the stored header value unchanged.',
    reference: 'docs/emulators.md#localstack',
    verified: 'localstack 4.14.0',
  },
  {
    id: 'localstack-s3-conditional-delete',
    emulator: 'localstack',
    tests: [
      'deleteIfMatch: a stale etag fails and keeps the object, the current etag deletes',
      'deleteIfMatch: a missing key fails with PRECONDITION_FAILED or NOT_FOUND',
    ],
    description:
      'DeleteObject with If-Match answers 501 NotImplemented ("A header you provided implies ' +
      'functionality that is not implemented"); S3 supports conditional deletes (412 on a stale ETag).',
    reference: 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-deletes.html',
    verified: 'localstack 4.14.0',
  },
  {
    id: 'localstack-s3-complete-if-none-match-race',
    emulator: 'localstack',
    tests: ['ifNoneMatch: exactly one of two concurrent multipart writers wins'],
    description:
      'As moto-s3-complete-if-none-match-race (LocalStack builds on moto): two concurrent ' +
      'CompleteMultipartUpload calls with If-None-Match: * on one key can both succeed; timing-dependent ' +
      '(seen once in the container leg, not in the process leg). S3 lets exactly one win.',
    reference: 'docs/emulators.md#localstack',
    verified: 'localstack 4.14.0',
  },
  {
    id: 'localstack-s3-continuation-token-non-ascii',
    emulator: 'localstack',
    tests: ['list: keys come back in UTF-8 byte order'],
    description:
      'ListObjectsV2: when a page ends before a key with non-ASCII characters, the continuation token ' +
      "cannot be decoded on the next request (500 InternalError: 'ascii' codec can't decode byte ...).",
    reference: 'docs/emulators.md#localstack',
    verified: 'localstack 4.14.0',
  },
  // ------------------------------------------------------------------ dynalite
  {
    id: 'dynalite-transactions',
    emulator: 'dynalite',
    tests: [],
    description:
      'TransactWriteItems and TransactGetItems are not implemented (UnknownOperationException). The AWS ' +
      'adapter does not use them today.',
    reference: 'https://github.com/architect/dynalite#todo',
    verified: 'dynalite 4.0.0',
  },
  {
    id: 'dynalite-ttl-api',
    emulator: 'dynalite',
    tests: [],
    description:
      'UpdateTimeToLive is not implemented (UnknownOperationException; DescribeTimeToLive always says ' +
      'DISABLED) and expired items are never removed. DynamoDB removes them only eventually too, so ' +
      'readers must hide expired items either way.',
    reference: 'https://github.com/architect/dynalite (actions/: no updateTimeToLive)',
    verified: 'dynalite 4.0.0',
  },
  // ------------------------------------------------------------------ pstest
  {
    id: 'pstest-ack-deadline-range',
    emulator: 'pstest',
    tests: [],
    description:
      'CreateSubscription accepts ackDeadlineSeconds below 10 (and 0 stays 0 instead of the default 10); ' +
      'above 600 it fails with UNKNOWN instead of INVALID_ARGUMENT, which the Node.js client retries until ' +
      'its deadline.',
    reference: 'https://cloud.google.com/pubsub/docs/reference/rest/v1/projects.subscriptions#Subscription',
    verified: 'pstest (cloud.google.com/go/pubsub/v2 v2.8.1)',
  },
  {
    id: 'pstest-message-size',
    emulator: 'pstest',
    tests: [],
    description:
      'No 10 MB publish limit: the repository main raises the gRPC receive limit to 20 MiB (the fake alone ' +
      'stops at 4 MiB with RESOURCE_EXHAUSTED), and the fake checks no message size itself.',
    reference: 'docs/emulators.md#pstest',
    verified: 'pstest (cloud.google.com/go/pubsub/v2 v2.8.1)',
  },
  // ------------------------------------------------------------------ bigtable-emulator
  {
    id: 'bigtable-row-key-size',
    emulator: 'bigtable-emulator',
    tests: [],
    description: 'Row keys longer than 4 KiB are accepted; Bigtable rejects them with INVALID_ARGUMENT.',
    reference: 'https://cloud.google.com/bigtable/quotas#limits-data-size',
    verified: 'bigtable emulator (cloud.google.com/go/bigtable v1.58.0)',
  },
  // ------------------------------------------------------------------ azurite
  {
    id: 'azurite-table-entity-size',
    emulator: 'azurite',
    tests: [],
    description:
      'Table entities over 1 MiB are accepted (each string property is still limited to 64 KiB); Azure ' +
      'Table storage answers EntityTooLarge.',
    reference:
      'https://learn.microsoft.com/en-us/rest/api/storageservices/understanding-the-table-service-data-model',
    verified: 'azurite 3.37.0',
  },
  // Azurite gap found by the Azure adapter; reproduced in adapters/azure/test/emulator-gaps.test.ts
  {
    id: 'azurite-table-entity-json-size',
    emulator: 'azurite',
    tests: [
      'values: the largest allowed JSON value round-trips',
      'values: the largest allowed binary value round-trips',
    ],
    description:
      'Azurite measures an entity by the UTF-8 size of its JSON request body (checkEntityLimit), so binary ' +
      "properties count with base64's 4/3 expansion: it answers EntityTooLarge from about 786 KB of binary " +
      'data on. Table Storage measures the stored entity (binary counted at its length + 4 bytes) against ' +
      '1 MiB, so about 1 MiB of binary data fits. Same root cause as azurite-table-entity-size, other ' +
      'direction. The Azure kv adapter declares maxValueBytes from the service formula.',
    reference: 'https://github.com/Azure/Azurite/blob/v3.37.0/src/table/handlers/TableHandler.ts',
    verified: 'azurite 3.37.0',
  },
  // ------------------------------------------------------------------ encryption at rest
  // Reproduced with raw SDK calls in conformance/test/harness/gaps-encryption.test.ts.
  {
    id: 'moto-s3-sse-c-ignored',
    emulator: 'moto',
    tests: [
      "encryptionCustomerKey: put, head and get report the key's SHA-256, never the key",
      'encryptionCustomerKey: reading without the key or with another key fails with PERMISSION_DENIED',
    ],
    description:
      'SSE-C headers (x-amz-server-side-encryption-customer-*) are accepted and ignored on PutObject, ' +
      'multipart uploads and CopyObject: the object is readable without the key or with any other key, and ' +
      'no x-amz-server-side-encryption-customer-key-MD5 is returned. S3 answers 400 without the key and ' +
      '403 with another one, and echoes the key MD5. (SSE-KMS works: any key id is accepted and reported.)',
    reference: 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerSideEncryptionCustomerKeys.html',
    verified: 'moto 5.2.5',
  },
  {
    id: 'fake-gcs-encryption-ignored',
    emulator: 'fake-gcs-server',
    tests: [
      'encryptionManagedKey: put, head and get report the managed key in effect',
      "encryptionCustomerKey: put, head and get report the key's SHA-256, never the key",
      'encryptionCustomerKey: reading without the key or with another key fails with PERMISSION_DENIED',
    ],
    description:
      'Customer-supplied keys (x-goog-encryption-* headers) and kmsKeyName are accepted and ignored on ' +
      'simple, resumable and rewrite requests: objects read without the key, and the resource has neither ' +
      'customerEncryption nor kmsKeyName. Cloud Storage answers 400 without the key and reports both.',
    reference: 'https://cloud.google.com/storage/docs/encryption/customer-supplied-keys',
    verified: 'fake-gcs-server v1.56.1',
  },
  {
    id: 'azurite-encryption-scope-not-reported',
    emulator: 'azurite',
    tests: ['encryptionManagedKey: put, head and get report the managed key in effect'],
    description:
      'Writes with an encryption scope (x-ms-encryption-scope) succeed, but no response (upload, ' +
      'properties, download) carries x-ms-encryption-scope, so the scope in effect cannot be reported. ' +
      'Customer-provided keys are not exercised on Azurite at all: the SDK refuses them over http, so the ' +
      'adapter declares encryptionCustomerKey only for https endpoints.',
    reference: 'https://learn.microsoft.com/en-us/azure/storage/blobs/encryption-scope-overview',
    verified: 'azurite 3.37.0',
  },
];

/** The gap excusing `testName` on `emulator`, if one is documented. */
export function findGap(emulator: EmulatorId | null, testName: string): EmulatorGap | undefined {
  if (emulator === null) return undefined;
  return EMULATOR_GAPS.find((g) => g.emulator === emulator && g.tests.includes(testName));
}
