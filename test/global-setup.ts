import { execFileSync } from 'node:child_process'
import { resolve } from 'node:path'

/** Build dist/ once before any test: the CLI and package tests run what users run. */
export default function setup(): void {
  execFileSync(resolve(import.meta.dirname, '../node_modules/.bin/tsup'), ['--silent'], { cwd: resolve(import.meta.dirname, '..'), stdio: 'inherit' })
}
