/** Which kind of resource a URL names. */
export type ResourceKind = 'bucket' | 'queue' | 'table';

/** What `describe` finds about one resource (no secrets: names, settings, counts). */
export interface ResourceState {
  readonly exists: boolean;
  /** Settings read from the service, e.g. the key schema, TTL, redrive policy, column families. */
  readonly details: Readonly<Record<string, unknown>>;
}

/** Options of `create` and `delete`. */
export interface ProvisionOptions {
  /** Print the steps, change nothing. */
  readonly dryRun: boolean;
  /**
   * Queues: also create a dead-letter queue and attach it where the service has a native policy.
   * `true` names it `<queue>-dlq` (SQS FIFO: `<queue>-dlq.fifo`).
   */
  readonly deadLetter?: string | true;
  /** Deliveries before a message goes to the dead-letter queue (default 5). */
  readonly maxDeliveries?: number;
  /** Queues: the visibility timeout / ack deadline to create with (SQS, Pub/Sub). */
  readonly visibilityTimeoutSeconds?: number;
  /** Delete: also delete the objects/rows in it (buckets must be empty on most services). */
  readonly force?: boolean;
  /** Progress lines ("created s3 bucket x", "would create ..."). */
  readonly log: (line: string) => void;
}

/** Provisioning for one URL scheme: exactly the layout its adapter documents. */
export interface Provisioner {
  /** Which kind of resource this provisioner manages. */
  readonly kind: ResourceKind;
  /** Reads whether the resource exists and its settings; changes nothing. */
  describe(url: URL): Promise<ResourceState>;
  /** Creates what is missing; existing resources are left alone (idempotent). */
  create(url: URL, opts: ProvisionOptions): Promise<void>;
  /** Deletes what exists; a missing resource is not an error (idempotent). */
  delete(url: URL, opts: ProvisionOptions): Promise<void>;
  /** Releases the SDK clients it opened, so the command can exit. */
  close?(): Promise<void>;
}

/** Runs `action` unless dry-run; logs either way. */
export async function step(
  opts: ProvisionOptions,
  what: string,
  action: () => Promise<unknown>,
): Promise<void> {
  if (opts.dryRun) {
    opts.log(`would ${what}`);
    return;
  }
  await action();
  opts.log(`${pastTense(what)}`);
}

function pastTense(what: string): string {
  return what
    .replace(/^create /, 'created ')
    .replace(/^delete /, 'deleted ')
    .replace(/^enable /, 'enabled ')
    .replace(/^attach /, 'attached ')
    .replace(/^empty /, 'emptied ');
}

/** Whether an error (native or portable) means "does not exist". */
export function isMissing(err: unknown): boolean {
  const e = err as {
    code?: unknown;
    name?: unknown;
    statusCode?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  if (e?.code === 'NOT_FOUND' || e?.code === 5 || e?.code === 404 || e?.statusCode === 404) return true;
  if (e?.$metadata?.httpStatusCode === 404) return true;
  const name = typeof e?.name === 'string' ? e.name : '';
  return /NotFound|NoSuch|NonExistent|DoesNotExist/i.test(
    `${name} ${String(e?.code)} ${String((e as { Code?: unknown }).Code)}`,
  );
}

/** Whether an error means "already there". */
export function isExisting(err: unknown): boolean {
  const e = err as { code?: unknown; name?: unknown; statusCode?: unknown };
  if (e?.code === 'ALREADY_EXISTS' || e?.code === 6 || e?.code === 409 || e?.statusCode === 409) return true;
  const name = typeof e?.name === 'string' ? e.name : '';
  return /AlreadyExists|AlreadyOwned|ResourceInUse|QueueAlreadyExists/i.test(name + String(e?.code));
}
