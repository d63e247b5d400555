/**
 * vitest globalSetup (registered in vitest.config.ts): starts the emulators once per run, in
 * parallel, in the main vitest process, and provides their statuses to the test workers, where
 * `useEmulator(id)` reads them. Everything started is stopped in teardown (which vitest runs
 * whether tests pass or fail), and on exit/SIGINT/SIGTERM by the process supervisor.
 *
 * POLYCLOUD_EMULATORS selects: unset = all (missing ones fail their tests), `optional` = missing
 * ones are "not run", a list of ids = only those, `none` = start nothing.
 */
import type { TestProject } from 'vitest/node';
import { emulatorLogsDir } from './paths.js';
import { PROVIDE_KEY } from './provided.js';
import { formatStatusTable, parseSelection, startEmulators } from './supervisor.js';
import type { EmulatorsContext } from './types.js';

/**
 * The vitest globalSetup hook: starts the selected emulators, provides their statuses to the
 * workers and returns the teardown that stops them.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const selection = parseSelection(process.env.POLYCLOUD_EMULATORS);
  const started = performance.now();
  const run = await startEmulators(selection);
  const context: EmulatorsContext = { optional: selection.optional, statuses: run.statuses };
  project.provide(PROVIDE_KEY, context);
  if (selection.ids.length > 0) {
    const mode = selection.optional ? 'optional' : 'required';
    console.log(
      `\npolycloud emulators (${mode}; ${Math.round(performance.now() - started)} ms, in parallel)\n` +
        `${formatStatusTable(run.statuses)}\n`,
    );
    for (const s of run.statuses) {
      if (s.state === 'failed' || s.state === 'missing') console.log(`  ${s.id}: ${s.reason}\n`);
    }
    if (run.statuses.some((s) => s.logFile)) console.log(`  process logs: ${emulatorLogsDir}\n`);
  }
  return () => run.stop();
}
