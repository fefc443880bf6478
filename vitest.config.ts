import { configDefaults, defineConfig } from 'vitest/config'

/**
 * `npm test`: everything that needs only Node and npm. The browser check is `npm run test:browser`;
 * test/packed/ holds checks that need Node 22 or later, run by .ci/run with the registry's Node;
 * test/hosts/ the hosts with heavy installs (`npm run test:hosts`), test/frameworks/ the frameworks
 * that need Node 22 (`npm run test:frameworks`).
 */
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    exclude: [...configDefaults.exclude, 'test/browser/**', 'test/packed/**', 'test/servers/**', 'test/hosts/**', 'test/frameworks/**'],
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    globalSetup: ['./test/global-setup.ts'],
  },
})
