import { defineConfig } from 'vitest/config'

/** `npm run test:browser`: the playground in headless Chromium (Debian's `chromium`, or CHROMIUM_PATH). */
export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    globalSetup: ['./test/global-setup.ts'],
  },
})
