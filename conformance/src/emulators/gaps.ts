import type { EmulatorId } from './types.js';

/**
 * A documented difference between an emulator and the real service. A conformance test is
 * reported "emulator-gap" only through this list (never by adapter name), with `reference`.
 */
export interface EmulatorGap {
  readonly id: string;
  readonly emulator: EmulatorId;
  /** Conformance test names (as registered by the suites) this gap excuses. */
  readonly tests: readonly string[];
  readonly description: string;
  /** Where the gap is documented or was observed (issue URL, doc link, or docs/emulators.md anchor). */
  readonly reference: string;
}

export const EMULATOR_GAPS: readonly EmulatorGap[] = [];

/** The gap excusing `testName` on `emulator`, if one is documented. */
export function findGap(emulator: EmulatorId | null, testName: string): EmulatorGap | undefined {
  if (emulator === null) return undefined;
  return EMULATOR_GAPS.find((g) => g.emulator === emulator && g.tests.includes(testName));
}
