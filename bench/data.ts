/**
 * Where the evaluation images are: `--data <dir>` on the command line, else UPSCALE_BENCH_DATA,
 * else the repository's `data/` (Set5, Set14 and T91 live there; BSD100 is 26 MB and is not
 * committed, so it is read from that folder when somebody puts it there).
 */
import { existsSync, readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'

export const REPO_DATA = resolve(import.meta.dirname, '../data')

export function dataDir(argv: string[] = process.argv, env: NodeJS.ProcessEnv = process.env): string {
  const flag = argv.indexOf('--data')
  if (flag >= 0 && argv[flag + 1])
    return resolve(argv[flag + 1])
  return env.UPSCALE_BENCH_DATA ? resolve(env.UPSCALE_BENCH_DATA) : REPO_DATA
}

/** The PNG files of one set, sorted; undefined when the set is not there. */
export function imagesOf(set: string, dir: string = dataDir()): string[] | undefined {
  const folder = join(dir, set)
  if (!existsSync(folder))
    return undefined
  return readdirSync(folder).filter(f => f.endsWith('.png')).sort().map(f => join(folder, f))
}

/** Like imagesOf, but a missing set is an error that says where it was looked for and how to point at it. */
export function requireImages(set: string, dir: string = dataDir()): string[] {
  const files = imagesOf(set, dir)
  if (!files?.length)
    throw new Error(`${set} not found in ${join(dir, set)}: pass --data <dir> or set UPSCALE_BENCH_DATA to a folder holding ${set}/ (see data/README.md)`)
  return files
}
