import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { emulatorSourcesDir, pinnedVersions } from '../../src/emulators/paths.js';
import { EMULATOR_IDS } from '../../src/emulators/types.js';

const read = (file: string) => readFileSync(path.join(emulatorSourcesDir, file), 'utf8');
const { emulators, containers } = pinnedVersions();

describe('conformance/emulators/versions.json', () => {
  it('pins every emulator to an exact version', () => {
    for (const id of EMULATOR_IDS) expect(emulators[id].version, id).toMatch(/^v?\d+\.\d+\.\d+$/);
    for (const image of Object.values(containers)) expect(image).toMatch(/:[\w.-]*\d[\w.-]*$/);
  });

  it('agrees with the lock files that pin the rest', () => {
    expect(read('moto/requirements.txt')).toContain(`moto[server]==${emulators.moto.version}\n`);
    // every requirement pinned exactly
    const reqs = read('moto/requirements.txt')
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith('#'));
    for (const line of reqs) expect(line).toMatch(/^[\w.[\]-]+==[\w.]+$/);

    const localstack = read('localstack/requirements.txt');
    expect(localstack).toContain(`localstack-core[runtime]==${emulators.localstack.version}\n`);
    for (const line of localstack.split('\n').filter((l) => l.trim() && !l.startsWith('#')))
      expect(line).toMatch(/^[\w.[\]-]+==[\w.]+$/);

    expect(read('elasticmq/pom.xml')).toContain(
      `<elasticmq.version>${emulators.elasticmq.version}</elasticmq.version>`,
    );

    for (const id of ['azurite', 'dynalite'] as const) {
      const pkg = JSON.parse(read(`${id}/package.json`));
      expect(pkg.dependencies[id]).toBe(emulators[id].version);
      const lock = JSON.parse(read(`${id}/package-lock.json`));
      expect(lock.packages[`node_modules/${id}`].version).toBe(emulators[id].version);
    }

    expect(read('pstest/go.mod')).toMatch(
      new RegExp(`cloud\\.google\\.com/go/pubsub/v2 ${emulators.pstest.version.replaceAll('.', '\\.')}\\b`),
    );
    expect(read('pstest/go.sum')).toContain(`cloud.google.com/go/pubsub/v2 ${emulators.pstest.version} h1:`);
  });

  it('uses the same versions for containers where the image is the same software', () => {
    expect(containers.moto).toBe(`motoserver/moto:${emulators.moto.version}`);
    // 4.14.0: the last LocalStack image that runs without an auth token.
    expect(containers.localstack).toBe(`localstack/localstack:${emulators.localstack.version}`);
    expect(containers['fake-gcs-server']).toBe(
      `fsouza/fake-gcs-server:${emulators['fake-gcs-server'].version.slice(1)}`,
    );
    expect(containers.azurite).toBe(`mcr.microsoft.com/azure-storage/azurite:${emulators.azurite.version}`);
  });
});
