import { defineConfig } from 'vitest/config'

/**
 * `npm run test:frameworks`, on Node 22 or later (SvelteKit 3, Nuxt 4 and React Router 8 need
 * it): each framework installed once per run into a fresh app beside the packed package, built,
 * served by its own servers and type-checked. .ci/run runs it with Node 22 from the npm registry.
 */
export default defineConfig({
  test: {
    include: ['test/frameworks/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    globalSetup: ['./test/global-setup.ts'],
  },
})
