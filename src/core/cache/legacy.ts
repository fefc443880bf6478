import { cpSync, existsSync, lstatSync, mkdirSync, renameSync, rmSync } from 'node:fs'
import { dirname } from 'node:path'

/**
 * The first build after the default cache moved (0.2) takes the old one along: the folder is renamed
 * (copied, across file systems) to the new place, so nothing in it is paid for or computed again.
 * Only when the new place has no cache yet, and only a real folder (never a link). Returns the folder
 * moved from.
 */
export function adoptLegacyCache(dir: string, legacy: string[]): string | undefined {
  if (legacy.length === 0 || existsSync(dir))
    return undefined
  for (const old of legacy) {
    if (!lstatSync(old, { throwIfNoEntry: false })?.isDirectory())
      continue
    mkdirSync(dirname(dir), { recursive: true })
    try {
      renameSync(old, dir)
    }
    catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EXDEV')
        throw error
      cpSync(old, dir, { recursive: true, verbatimSymlinks: true })
      rmSync(old, { recursive: true, force: true })
    }
    return old
  }
  return undefined
}
