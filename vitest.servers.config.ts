import { defineConfig } from 'vitest/config'

/** `npm run test:servers`: the remote cache on nginx and turborepo-remote-cache (test/helpers/remote-servers.ts). */
export default defineConfig({
  test: {
    include: ['test/servers/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    globalSetup: ['./test/global-setup.ts'],
  },
})
