import { generateKeyPairSync } from 'node:crypto';
import {
  type EmulatorEndpoint,
  type EmulatorId,
  emulatorNotRunReason,
  useEmulator,
} from '@polycloud/conformance/emulators';

/** The project id the Google emulators are used with (they check none). */
export const PROJECT = 'polycloud-test';

/** An emulator endpoint, or why the tests are not run (POLYCLOUD_EMULATORS selection). */
export function gcpTarget(
  id: EmulatorId,
): { endpoint: EmulatorEndpoint; notRun?: undefined } | { endpoint?: undefined; notRun: string } {
  const e = useEmulator(id);
  if (!e) return { notRun: emulatorNotRunReason(id) };
  return { endpoint: e };
}

/** A short random suffix for resource names (lower-case letters, digits and dashes). */
export function rand(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * A service-account key made at test time, so the SDK can sign URLs locally. The emulators
 * never check signatures; nothing is real about this account.
 */
export function fakeServiceAccount(): { client_email: string; private_key: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    client_email: `polycloud-test@${PROJECT}.iam.gserviceaccount.com`,
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}
