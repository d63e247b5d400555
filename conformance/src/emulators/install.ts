/**
 * `npm run emulators:install [-- [--force] [id...]]`: installs the pinned emulators into
 * .emulators/ (POLYCLOUD_EMULATORS_DIR overrides). Idempotent: an emulator whose stamp matches
 * its pinned version and pin files is skipped. All installs run in parallel (concurrent Go
 * builds are safe: the module and build caches lock; cold, in parallel they took half as long as
 * one after another).
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  type WriteStream,
} from 'node:fs';
import path from 'node:path';
import { CATALOG } from './catalog.js';
import { emulatorSourcesDir, emulatorsDir, pinnedVersions } from './paths.js';
import { installRuntimeTool, isRuntimeToolId, RUNTIME_TOOLS, type RuntimeTool } from './runtimes.js';
import { installState, writeStamp } from './stamps.js';
import { EMULATOR_IDS, type EmulatorId, isEmulatorId } from './types.js';

interface InstallContext {
  readonly id: EmulatorId;
  readonly root: string;
  readonly version: string;
  readonly log: WriteStream;
  readonly env: NodeJS.ProcessEnv;
  run(
    command: string,
    args: readonly string[],
    options?: { cwd?: string; env?: NodeJS.ProcessEnv },
  ): Promise<void>;
}

interface Installer {
  /** Tools that must be on PATH. */
  readonly tools: readonly string[];
  install(ctx: InstallContext): Promise<void>;
}

function goEnv(ctx: InstallContext, gobin: string): NodeJS.ProcessEnv {
  return {
    ...ctx.env,
    GOBIN: gobin,
    // The installed Go must do (go.mod files say which); set GOTOOLCHAIN=auto to let Go fetch one.
    GOTOOLCHAIN: ctx.env.GOTOOLCHAIN || 'local',
    GOFLAGS: '-buildvcs=false',
    CGO_ENABLED: '0',
  };
}

function npmCiInto(folder: 'azurite' | 'dynalite'): Installer {
  return {
    tools: ['npm'],
    async install(ctx) {
      const dir = path.join(ctx.root, folder);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      for (const file of ['package.json', 'package-lock.json']) {
        copyFileSync(path.join(emulatorSourcesDir, folder, file), path.join(dir, file));
      }
      // --ignore-scripts: nothing here needs one (dynalite's classic-level ships prebuilt binaries).
      // Azurite 3.35+ declares node >= 22 but runs on Node 20 (smoke-tested); engine-strict off.
      await ctx.run(
        'npm',
        [
          'ci',
          '--prefix',
          dir,
          '--ignore-scripts',
          '--omit=dev',
          '--no-audit',
          '--no-fund',
          '--engine-strict=false',
          '--loglevel=warn',
        ],
        { cwd: dir },
      );
    },
  };
}

function goInstall(id: 'fake-gcs-server' | 'bigtable-emulator', modulePath: string): Installer {
  return {
    tools: ['go'],
    async install(ctx) {
      const bin = path.join(ctx.root, id, 'bin');
      rmSync(path.join(ctx.root, id), { recursive: true, force: true });
      mkdirSync(bin, { recursive: true });
      await ctx.run('go', ['install', '-trimpath', '-ldflags=-s -w', `${modulePath}@${ctx.version}`], {
        env: goEnv(ctx, bin),
      });
    },
  };
}

const INSTALLERS: Readonly<Record<EmulatorId, Installer>> = {
  moto: {
    tools: [],
    async install(ctx) {
      const python = ctx.env.POLYCLOUD_PYTHON || 'python3';
      const venv = path.join(ctx.root, 'moto-venv');
      rmSync(venv, { recursive: true, force: true });
      await ctx.run(python, ['-m', 'venv', venv]);
      await ctx.run(path.join(venv, 'bin', 'python'), [
        '-m',
        'pip',
        'install',
        '--no-input',
        '--disable-pip-version-check',
        '--quiet',
        '-r',
        path.join(emulatorSourcesDir, 'moto', 'requirements.txt'),
      ]);
    },
  },
  elasticmq: {
    tools: ['mvn', 'java'],
    async install(ctx) {
      const dir = path.join(ctx.root, 'elasticmq');
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      await ctx.run('mvn', [
        '-B',
        '-q',
        '-f',
        path.join(emulatorSourcesDir, 'elasticmq', 'pom.xml'),
        'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies',
        `-DoutputDirectory=${path.join(dir, 'lib')}`,
        '-DincludeScope=runtime',
      ]);
    },
  },
  dynalite: npmCiInto('dynalite'),
  localstack: {
    tools: [],
    async install(ctx) {
      const python = localstackPython(ctx.env);
      const venv = path.join(ctx.root, 'localstack-venv');
      rmSync(venv, { recursive: true, force: true });
      await ctx.run(python, ['-m', 'venv', venv]);
      await ctx.run(path.join(venv, 'bin', 'python'), [
        '-m',
        'pip',
        'install',
        '--no-input',
        '--disable-pip-version-check',
        '--quiet',
        '-r',
        path.join(emulatorSourcesDir, 'localstack', 'requirements.txt'),
      ]);
    },
  },
  'fake-gcs-server': goInstall('fake-gcs-server', 'github.com/fsouza/fake-gcs-server'),
  pstest: {
    tools: ['go'],
    async install(ctx) {
      const bin = path.join(ctx.root, 'pstest', 'bin');
      rmSync(path.join(ctx.root, 'pstest'), { recursive: true, force: true });
      mkdirSync(bin, { recursive: true });
      await ctx.run(
        'go',
        ['build', '-mod=readonly', '-trimpath', '-ldflags=-s -w', '-o', path.join(bin, 'pstest'), '.'],
        {
          cwd: path.join(emulatorSourcesDir, 'pstest'),
          env: goEnv(ctx, bin),
        },
      );
    },
  },
  'bigtable-emulator': goInstall('bigtable-emulator', 'cloud.google.com/go/bigtable/cmd/emulator'),
  azurite: npmCiInto('azurite'),
};

/**
 * A Python >= 3.12 for LocalStack 4.14 (it uses 3.12 syntax and ships on 3.13; on 3.11 it starts
 * and then fails every request with "invalid syntax"): POLYCLOUD_LOCALSTACK_PYTHON, else the first
 * of python3.13, python3.12, python3, pyenv's 3.13.x/3.12.x that runs and is new enough. pyenv
 * shims for versions that are not active fail to run, hence the pyenv directory as well.
 */
export function localstackPython(env: NodeJS.ProcessEnv): string {
  if (env.POLYCLOUD_LOCALSTACK_PYTHON) return env.POLYCLOUD_LOCALSTACK_PYTHON;
  const candidates = ['python3.13', 'python3.12', 'python3'];
  const pyenvRoot = env.PYENV_ROOT || path.join(env.HOME ?? '', '.pyenv');
  try {
    const versions = readdirSync(path.join(pyenvRoot, 'versions'))
      .filter((v) => /^3\.1[23]\.\d+$/.test(v))
      .sort((a, b) => b.localeCompare(a, 'en', { numeric: true }));
    for (const v of versions) candidates.push(path.join(pyenvRoot, 'versions', v, 'bin', 'python3'));
  } catch {
    // no pyenv
  }
  const ok = candidates.find(
    (py) =>
      spawnSync(py, ['-c', 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)'], {
        stdio: 'ignore',
        env,
      }).status === 0,
  );
  if (!ok) {
    throw new Error(
      'LocalStack 4.14 needs Python >= 3.12 (python3.13 or python3.12 on PATH, or POLYCLOUD_LOCALSTACK_PYTHON)',
    );
  }
  return ok;
}

function onPath(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

function firstLine(command: string, args: string[]): string {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0] ?? '';
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export interface InstallResult {
  readonly id: EmulatorId;
  readonly version: string;
  readonly outcome: 'installed' | 'skipped' | 'failed';
  readonly ms: number;
  readonly detail: string;
}

export async function install(ids: readonly EmulatorId[], force: boolean): Promise<InstallResult[]> {
  const env = process.env;
  const root = emulatorsDir(env);
  const logsDir = path.join(root, 'logs');
  mkdirSync(logsDir, { recursive: true });
  const versions = pinnedVersions().emulators;

  const needsGo = ids.some(
    (id) =>
      INSTALLERS[id].tools.includes('go') &&
      (force || installState(id, CATALOG[id].marker(root), env).state !== 'installed'),
  );
  if (needsGo && onPath('go')) {
    const proxy = firstLine('go', ['env', 'GOPROXY']);
    console.log(`go: ${firstLine('go', ['version'])}; GOPROXY=${proxy}`);
    if (proxy === 'off' || proxy === '') {
      console.log(
        'go: GOPROXY is off: Go emulators need the module proxy (set GOPROXY=https://proxy.golang.org)',
      );
    }
  }

  return Promise.all(
    ids.map(async (id): Promise<InstallResult> => {
      const version = versions[id].version;
      const state = installState(id, CATALOG[id].marker(root), env);
      if (!force && state.state === 'installed') {
        const detail = `already installed (stamp ${state.stamp.installedAt}, took ${seconds(state.stamp.installMs)}): nothing to do`;
        console.log(`${id} ${version}: ${detail}`);
        return { id, version, outcome: 'skipped', ms: 0, detail };
      }
      const installer = INSTALLERS[id];
      const missingTools = installer.tools.filter((t) => !onPath(t));
      if (missingTools.length > 0) {
        const detail = `needs ${missingTools.join(', ')} on PATH`;
        console.log(`${id} ${version}: FAILED: ${detail}`);
        return { id, version, outcome: 'failed', ms: 0, detail };
      }
      const logFile = path.join(logsDir, `install-${id}.log`);
      const work = async (): Promise<InstallResult> => {
        console.log(
          `${id} ${version}: installing${state.state === 'outdated' ? ` (${state.reason})` : ''}...`,
        );
        const log = createWriteStream(logFile);
        const started = performance.now();
        const ctx: InstallContext = {
          id,
          root,
          version,
          log,
          env,
          run: (command, args, options = {}) =>
            new Promise((resolve, reject) => {
              log.write(`$ ${command} ${args.join(' ')}\n`);
              const child = spawn(command, [...args], {
                cwd: options.cwd ?? root,
                env: options.env ?? env,
                stdio: ['ignore', 'pipe', 'pipe'],
              });
              child.stdout.pipe(log, { end: false });
              child.stderr.pipe(log, { end: false });
              child.on('error', reject);
              child.on('close', (code, signal) =>
                code === 0
                  ? resolve()
                  : reject(new Error(`${command} ${args[0] ?? ''} failed (${signal ?? `exit ${code}`})`)),
              );
            }),
        };
        try {
          await installer.install(ctx);
          const ms = Math.round(performance.now() - started);
          const marker = CATALOG[id].marker(root);
          if (!existsSync(marker)) {
            throw new Error(`install finished but ${marker} is missing`);
          }
          writeStamp(id, ms, env);
          console.log(`${id} ${version}: installed in ${seconds(ms)}`);
          return { id, version, outcome: 'installed', ms, detail: `installed in ${seconds(ms)}` };
        } catch (err) {
          const ms = Math.round(performance.now() - started);
          await new Promise<void>((resolve) => log.end(resolve));
          const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-25).join('\n    ');
          const detail = `${err instanceof Error ? err.message : String(err)}; log: ${logFile}`;
          console.log(`${id} ${version}: FAILED after ${seconds(ms)}: ${detail}\n    ${tail}`);
          return { id, version, outcome: 'failed', ms, detail };
        } finally {
          if (!log.closed) log.end();
        }
      };
      return work();
    }),
  );
}

async function installRuntimes(ids: readonly RuntimeTool['id'][], force: boolean) {
  const env = force ? { ...process.env, POLYCLOUD_FORCE_RUNTIMES: '1' } : process.env;
  const out = [];
  for (const id of ids) out.push(await installRuntimeTool(id, env));
  return out;
}

export async function main(argv: readonly string[]): Promise<number> {
  const force = argv.includes('--force');
  const allWords = argv.filter((a) => !a.startsWith('--'));
  // Function runtimes (runtimes.ts) install alongside the emulators; with no ids, all of them.
  const runtimeWords = allWords.filter(isRuntimeToolId);
  const words = allWords.filter((w) => !isRuntimeToolId(w));
  for (const r of await installRuntimes(
    allWords.length === 0 ? RUNTIME_TOOLS.map((t) => t.id) : runtimeWords,
    force,
  )) {
    console.log(
      `${r.id}: ${r.ok ? r.detail : `FAILED: ${r.detail} (functions tests under it report not-run)`}`,
    );
  }
  if (allWords.length > 0 && words.length === 0) return 0;
  const unknown = words.filter((w) => !isEmulatorId(w));
  if (unknown.length > 0 || argv.includes('--help')) {
    console.log(
      `usage: npm run emulators:install [-- [--force] [${EMULATOR_IDS.join('|')}]...]` +
        (unknown.length ? `\nunknown: ${unknown.join(', ')}` : ''),
    );
    return unknown.length ? 2 : 0;
  }
  const ids = words.length > 0 ? EMULATOR_IDS.filter((id) => words.includes(id)) : [...EMULATOR_IDS];
  const root = emulatorsDir();
  console.log(`Installing emulators into ${root}${force ? ' (--force)' : ''}`);
  const started = performance.now();
  const results = await install(ids, force);
  const total = Math.round(performance.now() - started);
  const widths = [18, 9, 10];
  console.log(
    `\n${'emulator'.padEnd(widths[0]!)}${'version'.padEnd(widths[1]!)}${'result'.padEnd(widths[2]!)}time`,
  );
  for (const r of results) {
    console.log(
      `${r.id.padEnd(widths[0]!)}${r.version.padEnd(widths[1]!)}${r.outcome.padEnd(widths[2]!)}${
        r.outcome === 'installed' ? seconds(r.ms) : r.outcome === 'skipped' ? '-' : r.detail
      }`,
    );
  }
  const failed = results.filter((r) => r.outcome === 'failed');
  const nothing = results.every((r) => r.outcome === 'skipped');
  console.log(
    nothing
      ? `\nAll ${results.length} emulators already installed; nothing to do (${seconds(total)}).`
      : `\n${failed.length === 0 ? 'Done' : `${failed.length} failed`} in ${seconds(total)} wall-clock.`,
  );
  return failed.length === 0 ? 0 : 1;
}
