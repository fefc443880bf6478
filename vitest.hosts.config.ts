import { defineConfig } from 'vitest/config'

/**
 * `npm run test:hosts`: frameworks and tools with heavy installs (Next.js, Docusaurus, Rsbuild),
 * each installed once per run into a fresh app beside the packed package. .ci/run runs it after
 * `npm test`.
 */
export default defineConfig({
  test: {
    include: ['test/hosts/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    globalSetup: ['./test/global-setup.ts'],
  },
})
