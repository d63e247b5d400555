// The real emulators, started from .emulators/ by the supervisor and stopped again: no process
// of theirs (python, java, node, Go) may survive.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EMULATOR_ENV_VARIABLES } from '../../src/emulators/env-source.js';
import { processAlive } from '../../src/emulators/process.js';
import { parseSelection, startEmulator } from '../../src/emulators/supervisor.js';
import { EMULATOR_IDS, type EmulatorId } from '../../src/emulators/types.js';

const logDir = mkdtempSync(path.join(os.tmpdir(), 'polycloud-teardown-'));
afterAll(() => rmSync(logDir, { recursive: true, force: true }));

/** Processes whose process group is `pgid` (from /proc). */
function groupMembers(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** The environment without any emulator variable: forces the process source. */
function processOnlyEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, POLYCLOUD_DOCKER: 'off' };
  for (const name of EMULATOR_ENV_VARIABLES) delete env[name];
  return env;
}

const selection = parseSelection(process.env.POLYCLOUD_EMULATORS);

describe.concurrent('real emulators: start, stop, nothing left', () => {
  for (const id of EMULATOR_IDS) {
    it(id, async (ctx) => {
      if (!selection.ids.includes(id)) ctx.skip(`not run: ${id} not selected by POLYCLOUD_EMULATORS`);
      const handle = await startEmulator(id as EmulatorId, {
        env: processOnlyEnv(),
        logDir,
        logName: `teardown-${id}`,
      });
      const { status } = handle;
      if (status.state === 'missing' && selection.optional) {
        ctx.skip(`not run (POLYCLOUD_EMULATORS=optional): ${status.reason}`);
      }
      expect(status.state, status.reason).toBe('ready');
      expect(status.endpoint?.source).toBe('process');
      const pid = status.pid!;
      const members = groupMembers(pid);
      expect(members).toContain(pid);
      await handle.stop();
      expect(processAlive(pid)).toBe(false);
      expect(groupMembers(pid)).toEqual([]);
      for (const member of members) expect(processAlive(member), `pid ${member} of ${id}`).toBe(false);
    });
  }
});
