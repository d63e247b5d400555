import {
  type EmulatorEndpoint,
  type EmulatorId,
  emulatorNotRunReason,
  useEmulator,
} from '@polycloud/conformance/emulators';

/** What a test needs to reach an AWS emulator without touching process.env. */
export interface AwsTarget {
  readonly emulator: EmulatorId;
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  readonly description: string;
}

/**
 * The emulator's endpoint for one service, from the variables the harness provides
 * (AWS_ENDPOINT_URL_<SERVICE> or AWS_ENDPOINT_URL), or the reason it is not run.
 */
export function awsTarget(
  id: EmulatorId,
  service: 'S3' | 'SQS' | 'DYNAMODB',
): { target: AwsTarget; notRun?: undefined } | { target?: undefined; notRun: string } {
  const e: EmulatorEndpoint | undefined = useEmulator(id);
  if (!e) return { notRun: emulatorNotRunReason(id) };
  const endpoint = e.env[`AWS_ENDPOINT_URL_${service}`] ?? e.env.AWS_ENDPOINT_URL;
  if (!endpoint)
    throw new Error(`emulator ${id} provides no endpoint for ${service}: ${JSON.stringify(e.env)}`);
  return {
    target: {
      emulator: id,
      endpoint,
      region: e.env.AWS_REGION ?? 'us-east-1',
      credentials: {
        accessKeyId: e.env.AWS_ACCESS_KEY_ID ?? 'test',
        secretAccessKey: e.env.AWS_SECRET_ACCESS_KEY ?? 'test',
      },
      description: e.description,
    },
  };
}

/** A short random suffix for resource names. */
export function rand(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
