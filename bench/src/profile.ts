/**
 * Where the portable layer's CPU goes: a fresh `node --cpu-prof` process runs blob put/get and
 * kv set/get through Bucket / KvStore on the memory adapter (built dist, as an application
 * would load it) for a few seconds, and the profile's self time is summed per function.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchSettings, progress } from './common.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const WORKLOAD = `
import { Bucket, KvStore } from '@polycloud/core';
import { MemoryBucketDriver, MemoryBucketStore, MemoryKvDriver, MemoryKvNamespace } from '@polycloud/memory';
const bucket = new Bucket(new MemoryBucketDriver(new MemoryBucketStore('p')));
const kv = new KvStore(new MemoryKvDriver(new MemoryKvNamespace('p', 'default')));
const body = new Uint8Array(1024);
const value = { name: 'Ada Lovelace', n: 1815 };
const ms = Number(process.env.PROFILE_MS);
const end = performance.now() + ms;
let i = 0;
while (performance.now() < end) {
  const k = 'bench/key-' + (i++ % 1000);
  await bucket.put(k, body);
  await bucket.getBytes(k);
  await kv.set(k, value);
  await kv.get(k);
}
process.stdout.write(String(i));
`;

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

export interface ProfileSummary {
  readonly iterations: number;
  readonly totalMs: number;
  readonly top: readonly { fn: string; where: string; selfMs: number; share: number }[];
}

export function profilePortableLayer(s: BenchSettings): ProfileSummary {
  progress('profile: memory adapter through the portable layer, node --cpu-prof');
  execFileSync(
    process.execPath,
    [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'adapters/memory'],
    { cwd: root, stdio: 'inherit' },
  );
  const dir = mkdtempSync(path.join(os.tmpdir(), 'polycloud-bench-prof-'));
  try {
    const out = execFileSync(
      process.execPath,
      ['--cpu-prof', '--cpu-prof-dir', dir, '--input-type=module', '-e', WORKLOAD],
      { cwd: root, env: { ...process.env, PROFILE_MS: String(s.quick ? 1000 : 4000) }, encoding: 'utf8' },
    );
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('node --cpu-prof wrote no profile');
    const prof = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as {
      nodes: Node[];
      samples: number[];
      timeDeltas: number[];
    };
    const byId = new Map(prof.nodes.map((n) => [n.id, n]));
    const self = new Map<string, number>();
    let total = 0;
    prof.samples.forEach((id, i) => {
      const n = byId.get(id)!;
      const dt = Math.max(0, prof.timeDeltas[i] ?? 0);
      total += dt;
      const rel = n.callFrame.url.replace(`file://${root}/`, '').replace(/^node:/, 'node:');
      const key = `${n.callFrame.functionName || '(anonymous)'}\t${rel ? `${rel}:${n.callFrame.lineNumber + 1}` : '(native)'}`;
      self.set(key, (self.get(key) ?? 0) + dt);
    });
    const top = [...self.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 20)
      .map(([k, us]) => {
        const [fn, where] = k.split('\t') as [string, string];
        return { fn, where, selfMs: us / 1000, share: us / total };
      });
    return { iterations: Number(out), totalMs: total / 1000, top };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatProfile(p: ProfileSummary): string {
  const lines = [
    `${p.iterations} iterations of put 1 KiB + getBytes + kv set + kv get, ${p.totalMs.toFixed(0)} ms sampled. Top self time:`,
    '',
    '| self ms | share | function | where |',
    '|---|---|---|---|',
    ...p.top.map((t) => `| ${t.selfMs.toFixed(1)} | ${(t.share * 100).toFixed(1)}% | ${t.fn} | ${t.where} |`),
  ];
  return lines.join('\n');
}
