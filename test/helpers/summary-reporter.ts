import type { Reporter, TestModule } from 'vitest/node'

/** Ends the run with one plain line, `vitest: N passed, N failed`, that any CI log reader understands. */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const count = { passed: 0, failed: 0, skipped: 0, pending: 0 }
    for (const module of modules) {
      for (const test of module.children.allTests())
        count[test.result().state]++
    }
    const skipped = count.skipped + count.pending
    console.log(`\nvitest: ${count.passed} passed, ${count.failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
  }
}
