import type { EmulatorsContext } from './types.js';

/** The key global setup provides the emulator statuses under. */
export const PROVIDE_KEY = 'polycloud:emulators';

declare module 'vitest' {
  export interface ProvidedContext {
    'polycloud:emulators': EmulatorsContext;
  }
}
