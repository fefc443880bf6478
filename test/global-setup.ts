import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'

const ROOT = resolve(import.meta.dirname, '..')
// beside the dependencies, not in dist/ (which is packed)
const STAMP = join(ROOT, 'node_modules/.cache/unplugin-upscale-dist.sha256')

/** A hash of what dist/ is built from: the sources, the build's config and the package's manifest. */
function sourcesHash(): string {
  const hash = createHash('sha256')
  const files = readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })
    .filter(f => /\.(?:ts|wat)$/.test(f))
    .sort()
    .map(f => join('src', f))
  for (const file of [...files, 'tsup.config.ts', 'tsconfig.json', 'package.json'])
    hash.update(file).update('\0').update(readFileSync(join(ROOT, file))).update('\0')
  return hash.digest('hex')
}

/**
 * Build dist/ before any test: the CLI and package tests run what users run. The build (about
 * 30 s, declarations included) is skipped when dist/ was built from these very sources, as it is
 * for every suite after the first in .ci/run.
 */
export default function setup(): void {
  const wanted = sourcesHash()
  if (existsSync(STAMP) && readFileSync(STAMP, 'utf8') === wanted && existsSync(join(ROOT, 'dist/index.js')))
    return
  execFileSync(join(ROOT, 'node_modules/.bin/tsup'), ['--silent'], { cwd: ROOT, stdio: 'inherit' })
  mkdirSync(dirname(STAMP), { recursive: true })
  writeFileSync(STAMP, wanted)
}
