import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { onTestFinished } from 'vitest'

export const run = promisify(execFile)
export const ROOT = resolve(import.meta.dirname, '../..')

/** The version of a package the repository has installed (to install the same one in an app). */
export const installedVersion = async (name: string, root = ROOT): Promise<string> =>
  JSON.parse(await readFile(join(root, 'node_modules', name, 'package.json'), 'utf8')).version

export interface PackedApp {
  /** what `npm pack --json` said of the tarball: files, sizes, name */
  pack: { filename: string, size: number, unpackedSize: number, files: Array<{ path: string, mode: number }> }
  /** a fresh app (type: module) with the tarball and `installs` installed */
  app: string
  /** the version a package got in the app */
  versionOf: (name: string) => Promise<string>
  /** remove the app (done after the test unless `shared`) */
  dispose: () => Promise<void>
}

/**
 * The package as users get it: `npm pack` (dist/ was built by the global setup), then installed
 * with `installs` into a fresh app in a temporary folder that is removed after the test (or, with
 * `shared`, by the caller).
 */
export async function packedApp(installs: string[], { shared = false } = {}): Promise<PackedApp> {
  const dir = await mkdtemp(join(tmpdir(), 'upscale-pack-'))
  const dispose = () => rm(dir, { recursive: true, force: true })
  // an app shared by the tests of a file (installed in beforeAll) is removed by its afterAll
  if (!shared)
    onTestFinished(dispose)
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, maxBuffer: 1 << 24 })
  const [pack] = JSON.parse(stdout)
  const app = join(dir, 'app')
  await mkdir(app, { recursive: true })
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }))
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, pack.filename), ...installs], { cwd: app, maxBuffer: 1 << 24 })
  return { pack, app, versionOf: name => installedVersion(name, app), dispose }
}
