import { emulatorNotRunReason, useEmulator } from '@polycloud/conformance/emulators';

/** Azurite's connection string from the harness (never from process.env), or why it is not run. */
export function azuriteTarget():
  | { connectionString: string; notRun?: undefined }
  | { connectionString?: undefined; notRun: string } {
  const e = useEmulator('azurite');
  if (!e) return { notRun: emulatorNotRunReason('azurite') };
  const connectionString = e.env.AZURE_STORAGE_CONNECTION_STRING;
  if (!connectionString)
    throw new Error(`azurite provides no AZURE_STORAGE_CONNECTION_STRING: ${JSON.stringify(e.env)}`);
  return { connectionString };
}

/** A short random suffix for resource names (lower-case letters, digits and '-'). */
export function rand(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
