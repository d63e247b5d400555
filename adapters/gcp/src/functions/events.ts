/**
 * The event shapes the Cloud Functions bindings read. Sources: Cloud Pub/Sub "Push
 * subscriptions" (push request body), Eventarc / Cloud Functions "CloudEvents"
 * (google.cloud.pubsub.topic.v1.messagePublished, google.cloud.storage.object.v1.finalized and
 * .deleted, data as in googleapis/google-cloudevents), CloudEvents HTTP binding 1.0 (binary and
 * structured modes), Cloud Scheduler "HTTP target" headers.
 */

/** A CloudEvent as functions-framework hands it to a `cloudEvent` function. */
export interface CloudEventLike {
  readonly specversion?: string;
  readonly id: string;
  readonly type: string;
  readonly source: string;
  readonly subject?: string;
  readonly time?: string;
  readonly datacontenttype?: string;
  readonly data?: unknown;
}

/** The Pub/Sub message inside a push request or a messagePublished event. */
export interface PubsubPushMessage {
  readonly data?: string;
  readonly attributes?: Record<string, string>;
  readonly messageId?: string;
  readonly message_id?: string;
  readonly publishTime?: string;
  readonly publish_time?: string;
  readonly orderingKey?: string;
}

/** A push request body, and the data of a messagePublished CloudEvent. */
export interface PubsubPushBody {
  readonly message: PubsubPushMessage;
  readonly subscription?: string;
  /** Set when the subscription has a dead-letter policy. */
  readonly deliveryAttempt?: number;
}

/** Cloud Storage object data of finalized / deleted events (fields used). */
export interface StorageObjectData {
  readonly bucket: string;
  readonly name: string;
  /** Decimal text. */
  readonly size?: string;
  readonly etag?: string;
  readonly md5Hash?: string;
  readonly generation?: string;
  readonly timeCreated?: string;
  readonly updated?: string;
}

/** CloudEvent type of a Pub/Sub message published to a topic (Eventarc). */
export const PUBSUB_PUBLISHED = 'google.cloud.pubsub.topic.v1.messagePublished';
/** CloudEvent type of a Cloud Storage object created or overwritten. */
export const STORAGE_FINALIZED = 'google.cloud.storage.object.v1.finalized';
/** CloudEvent type of a Cloud Storage object deleted. */
export const STORAGE_DELETED = 'google.cloud.storage.object.v1.deleted';
