import { defineConfig } from 'vitest/config'

/**
 * The packed package on the newer Node lines (.ci/run runs this with Node 22 and 24 from the npm
 * registry): the packed-app check of `npm test`, and test/packed/, which needs Node 22 or later.
 */
export default defineConfig({
  test: {
    include: ['test/package.test.ts', 'test/packed/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    globalSetup: ['./test/global-setup.ts'],
  },
})
