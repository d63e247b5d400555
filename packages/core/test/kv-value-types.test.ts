// Type-level pins for KvValueOf, checked by `npm run typecheck` (tsc -p tsconfig.test.json):
// each @ts-expect-error fails the type check if the line it marks starts to compile.
import { memoryKv } from '@polycloud/memory';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { type KvEntry, type KvStore, type KvValue, openKv } from '../src/index.js';

interface Session {
  user: string;
  roles: string[];
  expires?: number;
  prefs: { theme: 'dark' | 'light'; sizes: readonly number[] };
}
interface WithDate {
  when: Date;
}
interface WithFunction {
  run: () => void;
}
interface WithMap {
  tags: Map<string, string>;
}
interface WithBigint {
  n: bigint;
}
type Alias = { a: number; b: string[] };

describe('KvValueOf: interfaces are values', () => {
  it('openKv and memoryKv accept interfaces, type aliases, primitives, arrays and bytes', async () => {
    const sessions = await openKv<Session>('mem://types-sessions');
    expectTypeOf(sessions).toEqualTypeOf<KvStore<Session>>();
    const v: Session = { user: 'ada', roles: ['admin'], prefs: { theme: 'dark', sizes: [1, 2] } };
    await sessions.set('s1', v);
    const got = await sessions.get('s1');
    expectTypeOf(got).toEqualTypeOf<KvEntry<Session> | undefined>();
    expect(got?.value).toEqual(v);
    // An optional property left undefined (`expires: cond ? d : undefined`) means "absent".
    await sessions.set('s2', { ...v, expires: undefined });
    const s2 = await sessions.get('s2');
    expect(s2?.value).toStrictEqual(v);
    expect(s2 !== undefined && 'expires' in s2.value).toBe(false);

    expectTypeOf(memoryKv<Alias>()).toEqualTypeOf<KvStore<Alias>>();
    expectTypeOf(memoryKv<string>()).toEqualTypeOf<KvStore<string>>();
    expectTypeOf(memoryKv<Session[]>()).toEqualTypeOf<KvStore<Session[]>>();
    expectTypeOf(memoryKv<Uint8Array>()).toEqualTypeOf<KvStore<Uint8Array>>();
    expectTypeOf(memoryKv()).toEqualTypeOf<KvStore<KvValue>>();
    await sessions.close();
  });

  it('rejects types JSON cannot carry, at compile time and at run time', async () => {
    // @ts-expect-error a Date does not survive JSON
    const dates = memoryKv<WithDate>();
    // @ts-expect-error functions are not data
    memoryKv<WithFunction>();
    // @ts-expect-error a Map serialises to {}
    const maps = memoryKv<WithMap>();
    // @ts-expect-error JSON has no bigint
    memoryKv<WithBigint>();
    // What slipped past the types is still refused before anything is written.
    await expect(dates.set('k', { when: new Date(0) })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(maps.set('k', { tags: new Map() })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await dates.get('k')).toBeUndefined();
  });
});
