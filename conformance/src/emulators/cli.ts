/**
 * `npm run emulators [-- --check] [-- --write-env FILE]`: start the emulators
 * (POLYCLOUD_EMULATORS selects, as in tests), print the status table and `export VAR=...` lines,
 * and keep them running until Ctrl-C / SIGTERM, which stops them all. With --check, stop right
 * after printing (exit code 1 if a selected emulator is not ready). --write-env also writes the
 * export lines to FILE, for `source FILE` in another shell.
 */
import { writeFileSync } from 'node:fs';
import { formatStatusTable, parseSelection, startEmulators } from './supervisor.js';
import type { EmulatorId, EmulatorStatus } from './types.js';

/** Second opinions: their variables would route SQS/DynamoDB away from moto, so they are printed commented out. */
const SECOND_OPINION: readonly EmulatorId[] = ['elasticmq', 'dynalite', 'localstack'];

const quote = (value: string) =>
  /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;

/**
 * The `export VAR=value` shell lines that point a shell at the ready emulators; second-opinion
 * emulators are commented out so they do not override moto.
 */
export function exportLines(statuses: readonly EmulatorStatus[]): string[] {
  const lines: string[] = [];
  const printed = new Map<string, string>();
  for (const s of statuses) {
    if (s.state !== 'ready' || !s.endpoint) continue;
    const second = SECOND_OPINION.includes(s.id);
    lines.push(
      `# ${s.endpoint.description}${second ? ' (second opinion: uncomment to route its service there)' : ''}`,
    );
    for (const [key, value] of Object.entries(s.endpoint.env)) {
      if (printed.get(key) === value) continue; // shared AWS_REGION etc.
      if (!second) printed.set(key, value);
      lines.push(`${second ? '# ' : ''}export ${key}=${quote(value)}`);
    }
  }
  return lines;
}

/**
 * Runs `npm run emulators` with `argv` (the arguments after the script name); resolves to the exit
 * code, after Ctrl-C / SIGTERM or at once with --check.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const check = argv.includes('--check');
  const envFileAt = argv.indexOf('--write-env');
  const envFile = envFileAt >= 0 ? argv[envFileAt + 1] : undefined;
  const selection = parseSelection(process.env.POLYCLOUD_EMULATORS);
  const run = await startEmulators(selection);
  console.log(formatStatusTable(run.statuses));
  const problems = run.statuses.filter((s) => s.state === 'failed' || s.state === 'missing');
  for (const s of problems) console.log(`\n${s.id}: ${s.reason}`);
  const lines = exportLines(run.statuses);
  console.log(`\n${lines.join('\n')}\n`);
  if (envFile) {
    writeFileSync(envFile, `${lines.join('\n')}\n`);
    console.log(`(written to ${envFile})`);
  }
  if (check) {
    await run.stop();
    return problems.length > 0 ? 1 : 0;
  }
  console.log('Emulators running; Ctrl-C stops them all.');
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      console.log(`\n${signal}: stopping emulators...`);
      resolve();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  await run.stop();
  console.log('All emulators stopped.');
  return 0;
}
