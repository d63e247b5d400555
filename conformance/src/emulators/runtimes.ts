/**
 * Function runtimes the functions tests drive: not service emulators (nothing is started for
 * every test run), but tools installed into .emulators/ alongside them.
 *
 * - lambda-rie: AWS Lambda's Runtime Interface Emulator, built from its Go module. It serves
 *   the Lambda invoke API and the Runtime API a Lambda runtime polls.
 *
 * - lambda-ric: AWS's runtime interface client for Node (npm aws-lambda-ric). It compiles a
 *   native addon (about three minutes), so it is installed here, once, rather than by `npm ci`:
 *   a user who only runs the quickstart never pays for it.
 *
 * `npm run emulators:install -- lambda-rie lambda-ric` installs them (the default install
 * includes both).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { emulatorsDir } from './paths.js';

/** A function runtime tool installed into .emulators/, pinned to one version. */
export interface RuntimeTool {
  readonly id: 'lambda-rie' | 'lambda-ric';
  readonly version: string;
  readonly module: string;
  readonly registry: string;
}

/** The function runtime tools `emulators:install` knows, with their pinned versions. */
export const RUNTIME_TOOLS: readonly RuntimeTool[] = [
  {
    id: 'lambda-rie',
    // The Go module proxy serves the emulator as this pseudo-version (go.sum of the module pins the rest).
    version: 'v0.0.0-20261030222936-bef5c4ba774d',
    module: 'github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie',
    registry: 'Go module proxy',
  },
  { id: 'lambda-ric', version: '4.0.2', module: 'aws-lambda-ric', registry: 'npm' },
];

export function isRuntimeToolId(word: string): word is RuntimeTool['id'] {
  return RUNTIME_TOOLS.some((t) => t.id === word);
}

/** Where the RIE binary is: POLYCLOUD_LAMBDA_RIE, else .emulators/lambda-rie/bin/aws-lambda-rie. */
export function lambdaRiePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.POLYCLOUD_LAMBDA_RIE || path.join(emulatorsDir(env), 'lambda-rie', 'bin', 'aws-lambda-rie');
}

/** The RIE binary, or why it is not there (the tests then report not-run). */
export function findLambdaRie(env: NodeJS.ProcessEnv = process.env): { path: string } | { notRun: string } {
  const p = lambdaRiePath(env);
  return existsSync(p)
    ? { path: p }
    : {
        notRun: `the Lambda Runtime Interface Emulator is not installed at ${p}: run npm run emulators:install -- lambda-rie`,
      };
}

/** Where aws-lambda-ric's entry point is once installed: .emulators/lambda-ric/node_modules/aws-lambda-ric. */
export function lambdaRicDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(emulatorsDir(env), 'lambda-ric', 'node_modules', 'aws-lambda-ric');
}

/** The installed aws-lambda-ric package folder, or undefined when it is not installed. */
export function findLambdaRic(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = lambdaRicDir(env);
  return existsSync(path.join(dir, 'package.json')) ? dir : undefined;
}

/** npm-installs aws-lambda-ric into .emulators/lambda-ric, allowing its native build by name. */
async function installLambdaRic(
  tool: RuntimeTool,
  env: NodeJS.ProcessEnv,
): Promise<{ id: string; ok: boolean; detail: string }> {
  const dir = path.join(emulatorsDir(env), 'lambda-ric');
  if (findLambdaRic(env) && !env.POLYCLOUD_FORCE_RUNTIMES)
    return { id: tool.id, ok: true, detail: 'already installed' };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'polycloud-lambda-ric', private: true, allowScripts: { 'aws-lambda-ric': true } }),
  );
  const started = performance.now();
  const code = await new Promise<number>((resolve) => {
    const child = spawn('npm', ['install', '--no-audit', '--no-fund', `${tool.module}@${tool.version}`], {
      cwd: dir,
      env,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', () => resolve(127));
    child.on('close', (c) => resolve(c ?? 1));
  });
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  if (code !== 0 || !findLambdaRic(env)) {
    rmSync(dir, { recursive: true, force: true });
    return { id: tool.id, ok: false, detail: `npm install failed (exit ${code}) after ${secs} s` };
  }
  return { id: tool.id, ok: true, detail: `installed in ${secs} s` };
}

/** Installs one runtime tool into .emulators/ (`go install` for RIE, npm for the client). */
export async function installRuntimeTool(
  id: RuntimeTool['id'],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ id: string; ok: boolean; detail: string }> {
  const tool = RUNTIME_TOOLS.find((t) => t.id === id)!;
  if (tool.id === 'lambda-ric') return installLambdaRic(tool, env);
  const bin = path.dirname(lambdaRiePath({ ...env, POLYCLOUD_LAMBDA_RIE: '' }));
  if (existsSync(path.join(bin, 'aws-lambda-rie')) && !env.POLYCLOUD_FORCE_RUNTIMES) {
    return { id, ok: true, detail: 'already installed' };
  }
  rmSync(bin, { recursive: true, force: true });
  mkdirSync(bin, { recursive: true });
  const started = performance.now();
  const code = await new Promise<number>((resolve) => {
    const child = spawn('go', ['install', '-trimpath', '-ldflags=-s -w', `${tool.module}@${tool.version}`], {
      env: {
        ...env,
        GOBIN: bin,
        GOTOOLCHAIN: env.GOTOOLCHAIN || 'local',
        GOFLAGS: '-buildvcs=false',
        CGO_ENABLED: '0',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', () => resolve(127));
    child.on('close', (c) => resolve(c ?? 1));
  });
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  return code === 0
    ? { id, ok: true, detail: `installed in ${secs} s` }
    : { id, ok: false, detail: `go install failed (exit ${code}) after ${secs} s` };
}
