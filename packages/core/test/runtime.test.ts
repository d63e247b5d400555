import { describe, expect, it } from 'vitest';

// The runtime the suite runs on is the one the scripts promise: Node 24 from the pinned `node`
// devDependency for `npm test`, Node 22 for `npm run test:node22` (which sets the variable).
describe('runtime', () => {
  it('runs on the Node the test command selected, never below the floor', () => {
    const [major] = process.versions.node.split('.').map(Number);
    expect(major).toBeGreaterThanOrEqual(22);
    const expected =
      process.env.POLYCLOUD_EXPECT_NODE ?? (process.env.npm_lifecycle_event === 'test' ? '24' : undefined);
    if (expected) expect(process.versions.node.startsWith(expected)).toBe(true);
  });
});
