// A project outside the polycloud repository running its conformance suites: the harness's
// globalSetup comes from node_modules, installs nothing itself, and starts what
// POLYCLOUD_EMULATORS selects from ./.emulators (filled by `npx polycloud-emulators install`).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.js'],
    globalSetup: ['@polycloud/conformance/global-setup'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
