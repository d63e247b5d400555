import { type ErrorCode, isPolycloudError } from '@polycloud/core';
import pc from 'picocolors';

/**
 * Exit codes of every command (documented in the README and in `polycloud --help`).
 * Scripts branch on them, so they never change meaning.
 */
export const EXIT = {
  OK: 0,
  /** Some items failed (cp/sync/rm/conformance) or an unclassified error. */
  FAILED: 1,
  /** Bad usage: unknown command or option, malformed URL or argument (INVALID_ARGUMENT, UNSUPPORTED). */
  USAGE: 2,
  /** The resource or key does not exist (NOT_FOUND). */
  NOT_FOUND: 3,
  /** Credentials missing or refused (UNAUTHENTICATED, PERMISSION_DENIED). */
  AUTH: 4,
  /** A condition did not hold (ALREADY_EXISTS, PRECONDITION_FAILED). */
  CONFLICT: 5,
  /** The service could not be reached in time (UNAVAILABLE, TIMEOUT, THROTTLED). */
  UNAVAILABLE: 6,
  /** Interrupted (Ctrl-C) or cancelled. */
  INTERRUPTED: 130,
} as const;

const EXIT_BY_CODE: Partial<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: EXIT.USAGE,
  UNSUPPORTED: EXIT.USAGE,
  PAYLOAD_TOO_LARGE: EXIT.USAGE,
  NOT_FOUND: EXIT.NOT_FOUND,
  UNAUTHENTICATED: EXIT.AUTH,
  PERMISSION_DENIED: EXIT.AUTH,
  ALREADY_EXISTS: EXIT.CONFLICT,
  PRECONDITION_FAILED: EXIT.CONFLICT,
  UNAVAILABLE: EXIT.UNAVAILABLE,
  TIMEOUT: EXIT.UNAVAILABLE,
  THROTTLED: EXIT.UNAVAILABLE,
  CANCELLED: EXIT.INTERRUPTED,
};

/** An error the CLI raises itself: a portable code, a message and a hint, never a stack. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

const HINTS: Partial<Record<ErrorCode, string>> = {
  NOT_FOUND: 'check the name; `polycloud create <url>` makes buckets, queues and tables',
  UNAUTHENTICATED:
    "the SDK's default credential chain found nothing usable; set the provider's usual variables",
  PERMISSION_DENIED: 'the credentials in use lack a permission for this call',
  UNAVAILABLE:
    'is the endpoint reachable? For emulators run `polycloud emulators up --detach` and `eval "$(polycloud emulators env)"`',
  TIMEOUT: 'the service did not answer in time; retry, or check the endpoint',
  INVALID_ARGUMENT: 'see `polycloud <command> --help`',
};

/** Strips anything that looks like a secret from text that is about to be printed. */
export function redactSecrets(s: string): string {
  return s
    .replace(
      /(AccountKey|SharedAccessSignature|sig|Signature|X-Amz-Signature|X-Amz-Credential|secret[A-Za-z]*)=([^;&\s"']+)/gi,
      '$1=***',
    )
    .replace(/\/\/([^/@\s:]+):([^/@\s]+)@/g, '//***@');
}

/** The first line of a message, without stack or cause chains. */
function firstLine(s: string): string {
  return (s.split('\n').find((l) => l.trim() !== '') ?? s).trim();
}

/** Formats any error as the one line the CLI prints, and picks its exit code. */
export function describeFailure(err: unknown): { line: string; exit: number; code: string } {
  if (err instanceof CliError) {
    return {
      line: `${err.code}: ${redactSecrets(firstLine(err.message))}${err.hint ? ` (hint: ${err.hint})` : ''}`,
      exit: EXIT_BY_CODE[err.code] ?? EXIT.FAILED,
      code: err.code,
    };
  }
  if (isPolycloudError(err)) {
    const hint = HINTS[err.code];
    return {
      line: `${err.code}: ${redactSecrets(firstLine(err.message))}${hint ? ` (hint: ${hint})` : ''}`,
      exit: EXIT_BY_CODE[err.code] ?? EXIT.FAILED,
      code: err.code,
    };
  }
  const msg = err instanceof Error ? err.message : String(err);
  // The AWS SDK's own config error, from commands that use its clients directly (describe, create).
  if (msg === 'Region is missing') {
    return {
      line: 'INVALID_ARGUMENT: no AWS region is configured (hint: set AWS_REGION, or add ?region=<region> to the URL)',
      exit: EXIT.USAGE,
      code: 'INVALID_ARGUMENT',
    };
  }
  const netDown = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|fetch failed|socket hang up/i.test(msg);
  if (netDown) {
    return {
      line: `UNAVAILABLE: ${redactSecrets(firstLine(msg))} (hint: ${HINTS.UNAVAILABLE})`,
      exit: EXIT.UNAVAILABLE,
      code: 'UNAVAILABLE',
    };
  }
  return { line: `UNKNOWN: ${redactSecrets(firstLine(msg))}`, exit: EXIT.FAILED, code: 'UNKNOWN' };
}

/** Output switches shared by every command. */
export interface Out {
  readonly json: boolean;
  readonly quiet: boolean;
}

export const color = pc;

/** Writes one line to stdout. */
export function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Writes one line to stderr (status and progress that must not mix with data on stdout). */
export function note(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Prints a value as JSON on one line (machine output). */
export function sayJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Parses a URL argument, with a one-line usage error when it is not a URL. */
export function parseUrl(arg: string, what = 'URL'): URL {
  let url: URL;
  try {
    url = new URL(arg);
  } catch {
    throw new CliError(
      'INVALID_ARGUMENT',
      `"${arg}" is not a ${what}`,
      'use scheme://name, e.g. s3://bucket, gs://bucket, azblob://container, sqs://queue, dynamodb://table, file:///dir',
    );
  }
  // new URL drops everything after "#" into the fragment: `cp f s3://b/a#1.txt` would write key "a".
  if (arg.includes('#'))
    throw new CliError(
      'INVALID_ARGUMENT',
      `${arg}: "#" starts a URL fragment, so the name would be cut at it`,
      'write "#" in keys as %23 (and "?" as %3F)',
    );
  return url;
}

/** The scheme without the colon. */
export function schemeOf(url: URL): string {
  return url.protocol.replace(/:$/, '');
}

/** A URL as printed: secrets never appear, and query parameters are kept (they are not secrets by contract). */
export function showUrl(url: URL | string): string {
  return redactSecrets(typeof url === 'string' ? url : url.href);
}

/** Human-readable byte count. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(n)} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function mapLimit<T>(
  items: AsyncIterable<T> | Iterable<T>,
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  const running = new Set<Promise<void>>();
  for await (const item of items) {
    const p = fn(item).finally(() => running.delete(p));
    running.add(p);
    if (running.size >= limit) await Promise.race(running);
  }
  await Promise.all(running);
}
