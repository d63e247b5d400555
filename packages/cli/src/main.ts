import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import {
  catCommand,
  kvGet,
  kvLs,
  kvRm,
  kvSet,
  lsCommand,
  putCommand,
  queuePurge,
  queueReceive,
  queueSend,
  queueStats,
  rmCommand,
  statCommand,
} from './data.js';
import { createCommand, deleteCommand, describeCommand } from './resources.js';
import { summaryLine, transfer } from './transfer.js';
import { describeFailure, EXIT, note, say, sayJson } from './util.js';

const EXIT_CODES_HELP = `
Exit codes:
  0    everything done
  1    some items failed (cp, sync, rm, conformance) or an unexpected error
  2    bad usage or argument (INVALID_ARGUMENT, UNSUPPORTED)
  3    not found (NOT_FOUND)
  4    credentials missing or refused (UNAUTHENTICATED, PERMISSION_DENIED)
  5    conflict (ALREADY_EXISTS, PRECONDITION_FAILED)
  6    service unreachable or too slow (UNAVAILABLE, TIMEOUT, THROTTLED)
  130  interrupted

URLs: mem://name  file:///dir  s3://bucket[/key]  gs://bucket  azblob://container
      sqs://queue[.fifo]  gcppubsub://projects/P/topics/T?subscription=S  azqueue://queue
      dynamodb://table  bigtable://projects/P/instances/I/tables/T  aztable://table
Endpoints and credentials come from the SDKs' usual variables (AWS_ENDPOINT_URL, STORAGE_EMULATOR_HOST,
PUBSUB_EMULATOR_HOST, BIGTABLE_EMULATOR_HOST, AZURE_STORAGE_CONNECTION_STRING, ...); never put secrets in URLs.`;

const examples = (lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;

/** An action wrapper: errors become one line and an exit code. */
function run<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    await fn(...args);
  };
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** Builds the command tree (exported for the tests of help output). */
export function buildProgram(): Command {
  const program = new Command('polycloud')
    .description('Provision, inspect, copy and sync blobs, queues and key-value tables on any provider.')
    .version('0.1.0')
    .showSuggestionAfterError(true)
    .addHelpText('after', EXIT_CODES_HELP);

  program
    .command('create')
    .description('create a bucket, queue or table with the layout its adapter expects (idempotent)')
    .argument('<url>', 'resource URL')
    .option(
      '--dead-letter [name]',
      'queues: also create a dead-letter queue (default <queue>-dlq) and attach it',
    )
    .option('--max-deliveries <n>', 'deliveries before dead-lettering (default 5)')
    .option('--dry-run', 'print what would be done, change nothing')
    .addHelpText(
      'after',
      examples([
        'polycloud create s3://uploads',
        'polycloud create sqs://jobs --dead-letter --max-deliveries 3',
        'polycloud create sqs://orders.fifo',
        'polycloud create dynamodb://counters           # pk/sk (S), on-demand, TTL on "ttl"',
        "polycloud create 'gcppubsub://projects/p/topics/jobs?subscription=jobs-worker'",
        'polycloud create bigtable://projects/p/instances/i/tables/counters',
        'polycloud create aztable://counters --dry-run',
      ]),
    )
    .action(run(createCommand));

  program
    .command('delete')
    .description('delete a bucket, queue or table (idempotent)')
    .argument('<url>', 'resource URL')
    .option('--dead-letter [name]', 'queues: also delete the dead-letter queue')
    .option('--force', 'buckets: delete every object first')
    .option('-y, --yes', 'do not ask before deleting objects')
    .option('--dry-run', 'print what would be done, change nothing')
    .addHelpText(
      'after',
      examples(['polycloud delete sqs://jobs --dead-letter', 'polycloud delete s3://uploads --force --yes']),
    )
    .action(run(deleteCommand));

  program
    .command('describe')
    .description('print whether a resource exists, its settings and its capabilities record')
    .argument('<url>', 'resource URL')
    .option('--json', 'JSON output')
    .addOption(
      new Option('--as <service>', 'for mem:// URLs: which service').choices(['blob', 'queue', 'kv']),
    )
    .addHelpText(
      'after',
      examples(['polycloud describe dynamodb://counters', 'polycloud describe s3://uploads --json']),
    )
    .action(run(describeCommand));

  program
    .command('ls')
    .description('list objects (one level; --recursive for all)')
    .argument('<url>', 'bucket URL with an optional prefix')
    .option('-l, --long', 'size, modification time and key')
    .option('-r, --recursive', 'every key under the prefix')
    .option('--json', 'one JSON object per line')
    .addHelpText(
      'after',
      examples([
        'polycloud ls s3://uploads/',
        'polycloud ls -lr gs://media/2024/',
        'polycloud ls azblob://c --json -r',
      ]),
    )
    .action(run(lsCommand));

  program
    .command('cat')
    .description('write an object to stdout')
    .argument('<url>', 'object URL')
    .addHelpText('after', examples(['polycloud cat s3://uploads/report.csv | head']))
    .action(run(catCommand));

  program
    .command('stat')
    .description("print an object's size, etag, content headers and metadata as JSON")
    .argument('<url>', 'object URL')
    .addHelpText('after', examples(['polycloud stat s3://uploads/report.csv']))
    .action(run(statCommand));

  program
    .command('put')
    .description('upload a file (or stdin with "-") to an object')
    .argument('<file>', 'file path, or - for stdin')
    .argument('<url>', 'object URL (a URL ending in / keeps the file name)')
    .option('--content-type <type>')
    .option('--cache-control <value>')
    .option('--content-encoding <value>')
    .option('--content-disposition <value>')
    .option('--meta <key=value>', 'metadata (repeatable)', collect)
    .addHelpText(
      'after',
      examples([
        'polycloud put ./logo.png s3://site/img/ --content-type image/png',
        'echo hi | polycloud put - gs://b/hello.txt --meta owner=me',
      ]),
    )
    .action(run(putCommand));

  program
    .command('rm')
    .description('delete an object, or everything under a prefix with --recursive')
    .argument('<url>', 'object or prefix URL')
    .option('-r, --recursive', 'every key under the prefix')
    .option('-y, --yes', 'do not ask')
    .option('--dry-run', 'print what would be deleted')
    .addHelpText(
      'after',
      examples(['polycloud rm s3://b/old.txt --yes', 'polycloud rm -r gs://b/tmp/ --dry-run']),
    )
    .action(run(rmCommand));

  const transferCmd = (name: 'cp' | 'sync', description: string, ex: string[]) =>
    program
      .command(name)
      .description(description)
      .argument('<src>', 'source: URL, path, or - (cp only)')
      .argument('<dst>', 'destination: URL, path, or - (cp only)')
      .option('--parallel <n>', 'objects in flight', '8')
      .option('--part-size <MiB>', 'multipart part size for big objects', '8')
      .option('--concurrency <n>', 'parts in flight per big object', '4')
      .option('--dry-run', 'print what would be copied')
      .option('--json', 'one JSON line per object and for the summary')
      .option('--no-progress', 'plain lines even on a terminal')
      .addHelpText('after', examples(ex));

  transferCmd('cp', 'copy an object, or a whole prefix with --recursive, between any two locations', [
    'polycloud cp ./report.pdf s3://docs/2024/',
    'polycloud cp -r s3://media/ gs://media-copy/',
    'polycloud cp gs://b/big.iso - | sha256sum',
  ])
    .option('-r, --recursive', 'copy every object under the prefix')
    .action(
      run(async (src: string, dst: string, o: TransferFlags & { recursive?: boolean }) =>
        transferAction(src, dst, o, false),
      ),
    );

  transferCmd('sync', 'copy what differs (size + MD5 etag, else modification time) from src to dst', [
    'polycloud sync ./site s3://www/',
    'polycloud sync s3://media azblob://media --parallel 16',
    'polycloud sync gs://b/logs/ ./logs --dry-run',
  ]).action(
    run(async (src: string, dst: string, o: TransferFlags) =>
      transferAction(src, dst, { ...o, recursive: true }, true),
    ),
  );

  const queue = program
    .command('queue')
    .description('send, receive, peek, purge and inspect queue messages (JSON lines)');
  queue
    .command('send')
    .description('send one message (body argument, or stdin when omitted or "-"; --lines sends one per line)')
    .argument('<url>', 'queue URL')
    .argument('[body]', 'message body (JSON or text)')
    .option('--attr <name=value>', 'message attribute (repeatable)', collect)
    .option('--group <id>', 'group id (FIFO / ordering key)')
    .option('--delay <seconds>', 'delivery delay')
    .option('--lines', 'stdin holds one message per line')
    .addHelpText(
      'after',
      examples([
        'polycloud queue send sqs://jobs \'{"id":1}\'',
        'cat jobs.ndjson | polycloud queue send azqueue://jobs --lines',
      ]),
    )
    .action(run(queueSend));
  queue
    .command('receive')
    .description('receive messages and print them as JSON lines; acked unless --no-ack')
    .argument('<url>', 'queue URL')
    .option('-n, --max <n>', 'at most n messages', '1')
    .option('--wait <seconds>', 'long-poll up to this long', '5')
    .option('--visibility <seconds>', 'hide them from others this long')
    .option('--no-ack', 'leave them on the queue (they reappear after the visibility timeout)')
    .addHelpText('after', examples(['polycloud queue receive sqs://jobs -n 10 | jq .body']))
    .action(run(queueReceive));
  queue
    .command('peek')
    .description('show messages and put them straight back (their delivery count grows)')
    .argument('<url>', 'queue URL')
    .option('-n, --max <n>', 'at most n messages', '10')
    .option('--wait <seconds>', 'long-poll up to this long', '0')
    .action(
      run(async (url: string, o: { max?: string; wait?: string }) => queueReceive(url, { ...o, peek: true })),
    );
  queue
    .command('purge')
    .description('delete every message')
    .argument('<url>', 'queue URL')
    .option('-y, --yes', 'do not ask')
    .action(run(queuePurge));
  queue
    .command('stats')
    .description('approximate depth, settings and capabilities')
    .argument('<url>', 'queue URL')
    .option('--json', 'JSON output')
    .action(run(queueStats));

  const kv = program.command('kv').description('get, set, delete and list key-value entries (JSON)');
  kv.command('get')
    .description('print {key, value, version} as JSON (exit 3 when missing)')
    .argument('<url>', 'kv URL (namespace= selects the namespace)')
    .argument('<key>')
    .addHelpText('after', examples(['polycloud kv get dynamodb://counters visits']))
    .action(run(kvGet));
  kv.command('set')
    .description('set a JSON value (argument, or stdin when omitted or "-")')
    .argument('<url>', 'kv URL')
    .argument('<key>')
    .argument('[json]', 'the value as JSON')
    .option('--ttl <seconds>', 'expire after')
    .option('--if-version <v>', 'only if the current version is v')
    .option('--if-absent', 'only if the key does not exist')
    .option('--raw', 'store the text as a string, not JSON')
    .addHelpText(
      'after',
      examples([
        'polycloud kv set aztable://cfg feature \'{"on":true}\'',
        'polycloud kv set dynamodb://t k --raw hello --ttl 60',
      ]),
    )
    .action(run(kvSet));
  kv.command('rm')
    .description('delete a key; prints whether it existed')
    .argument('<url>', 'kv URL')
    .argument('<key>')
    .option('--if-version <v>', 'only if the current version is v')
    .action(run(kvRm));
  kv.command('ls')
    .description('list keys in order (JSON lines)')
    .argument('<url>', 'kv URL')
    .option('--prefix <p>')
    .option('--limit <n>')
    .option('--values', 'include values and versions')
    .action(run(kvLs));

  program
    .command('conformance')
    .description(
      'run the shared conformance suites against your own endpoints, in fresh resources it cleans up',
    )
    .argument('<blobURL>', 'a bucket URL; fresh buckets are named <name>-<random>')
    .argument('[queueURL]', 'a queue URL; fresh queues are named <name>-<random>')
    .argument('[kvURL]', 'a kv URL; one fresh table <name>-<random>, a namespace per test')
    .option(
      '--report-root <dir>',
      'reports go to <project root above dir>/reports/conformance (default: the working directory)',
    )
    .option('--name <name>', 'report name prefix (default: the adapter, e.g. azure)')
    .option(
      '--emulator <id>',
      'the emulator(s) behind the endpoints, comma-separated, so their documented gaps are excused',
    )
    .option('-t, --filter <pattern>', 'only tests whose name matches')
    .addHelpText(
      'after',
      examples([
        'polycloud conformance azblob://pcconf azqueue://pcconf aztable://pcconf --emulator azurite',
        "polycloud conformance gs://pcc 'gcppubsub://projects/p/topics/pcc?subscription=pcc' --emulator fake-gcs-server,pstest",
        'polycloud conformance s3://my-test-bucket?region=eu-west-1',
      ]),
    )
    .action(
      run(
        async (
          blob: string,
          queue: string | undefined,
          kvUrl: string | undefined,
          o: Record<string, string | undefined>,
        ) => {
          const { conformanceCommand } = await import('./conformance.js');
          await conformanceCommand(blob, queue, kvUrl, o);
        },
      ),
    );

  const emu = program
    .command('emulators')
    .description('start, stop and print the environment of the local emulators');
  emu
    .command('up')
    .description(
      'start the emulators (POLYCLOUD_EMULATORS or --only selects); foreground until Ctrl-C, or --detach',
    )
    .option(
      '--only <ids>',
      'comma-separated ids: moto, fake-gcs, pstest, bigtable, azurite, elasticmq, dynalite',
    )
    .option('--detach', 'start in the background and return once they are ready')
    .addHelpText(
      'after',
      examples(['polycloud emulators up --detach --only moto,azurite', 'eval "$(polycloud emulators env)"']),
    )
    .action(
      run(async (o: { only?: string; detach?: boolean }) => (await import('./emulators.js')).emulatorsUp(o)),
    );
  emu
    .command('down')
    .description('stop emulators started with up --detach')
    .action(run(async () => (await import('./emulators.js')).emulatorsDown()));
  emu
    .command('env')
    .description('print export lines for the running emulators')
    .option('--json', 'JSON object of variables')
    .action(run(async (o: { json?: boolean }) => (await import('./emulators.js')).emulatorsEnv(o)));

  checkNumbers(program);
  return program;
}

/**
 * Numeric options (`<n>`, `<seconds>`, `<MiB>`) must be numbers: the commands read them with
 * Number(), and a typo would otherwise be ignored (`--limit abc` listed everything) or reach an
 * SDK as NaN. A bad value is a usage error naming the option, exit 2.
 */
function checkNumbers(c: Command): void {
  for (const opt of c.options) {
    if (!/<(n|seconds|MiB)>/.test(opt.flags)) continue;
    opt.argParser((value: string) => {
      if (value.trim() === '' || !Number.isFinite(Number(value)) || Number(value) < 0)
        throw new InvalidArgumentError('expected a non-negative number.');
      return value;
    });
  }
  for (const sub of c.commands) checkNumbers(sub);
}

interface TransferFlags {
  parallel: string;
  partSize: string;
  concurrency: string;
  dryRun?: boolean;
  json?: boolean;
  progress: boolean;
}

async function transferAction(
  src: string,
  dst: string,
  o: TransferFlags & { recursive?: boolean },
  sync: boolean,
): Promise<void> {
  const s = await transfer(src, dst, {
    recursive: o.recursive === true,
    skipSame: sync,
    dryRun: o.dryRun === true,
    parallel: Math.max(1, Number(o.parallel)),
    partSize: Math.max(5, Number(o.partSize)) * 1024 * 1024,
    concurrency: Math.max(1, Number(o.concurrency)),
    progress: o.progress !== false && process.stderr.isTTY === true && o.json !== true,
    json: o.json === true,
  });
  if (o.recursive || sync) {
    if (o.json) sayJson({ summary: s });
    else note(summaryLine(s, o.dryRun === true));
  }
  if (s.failed > 0) process.exitCode = EXIT.FAILED;
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  // Subcommands copy these settings only when created, so set them on every command: otherwise a
  // missing argument or unknown option exits 1 from inside commander instead of the usage code 2.
  const configure = (c: Command): void => {
    c.exitOverride();
    c.configureOutput({ outputError: (str, write) => write(str) });
    for (const sub of c.commands) configure(sub);
  };
  configure(program);
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return EXIT.OK; // --help, --version
      return EXIT.USAGE;
    }
    // The reader of stdout went away (`polycloud cat big | head`): what it wanted has been written.
    if ((err as { code?: unknown } | undefined)?.code === 'EPIPE') return EXIT.OK;
    const f = describeFailure(err);
    note(`polycloud: ${f.line}`);
    if (process.env.POLYCLOUD_DEBUG && err instanceof Error) note(err.stack ?? '');
    return f.exit;
  }
}

export { say };
