import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'

/**
 * Where things live in a cache dir, and what names belong there. One folder per first two hex
 * digits of a key; in it, per key, the image, its record, and while a build works on it a lock.
 */
export const DEFAULT_CACHE_DIR = '.upscale-cache'
/** Where the cache was by default up to 0.1: under the bundler root's node_modules, which `npm ci` deletes. */
export const LEGACY_CACHE_DIR = 'node_modules/.cache/unplugin-upscale'

/** The project a root belongs to: the nearest folder at or above it with a package.json (else the root itself). */
export function projectRoot(root: string): string {
  for (let dir = root; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')))
      return dir
    if (dirname(dir) === dir)
      return root
  }
}

/**
 * The default cache: `.upscale-cache` in the project, beside its package.json, wherever the
 * bundler's root is (Nuxt's is `app/`), and out of node_modules, so that `npm ci` keeps it. Also
 * where the old default put it, to move from (see `adoptLegacyCache`).
 */
export function defaultCacheDir(root: string): { dir: string, legacy: string[] } {
  const project = projectRoot(root)
  const legacy = [...new Set([join(root, LEGACY_CACHE_DIR), join(project, LEGACY_CACHE_DIR)])]
  return { dir: join(project, DEFAULT_CACHE_DIR), legacy }
}
export const CACHE_FORMAT = 1
/** Written at the top of the cache dir after a build prunes: when, and with which settings. */
export const PRUNE_MARKER = 'prune.json'
/** Enhanced images under a readable name, for another image plugin to read (see UpscaleContext.composed). */
export const NAMED_DIR = 'named'
/** Running totals of the remote tier (hits, misses, uploads), for `cache stats`. */
export const REMOTE_STATS = 'remote.json'

const EXT: Record<string, string> = { jpeg: 'jpg', png: 'png', webp: 'webp', avif: 'avif' }
export const extensionOf = (format: string): string => EXT[format] ?? format

/** A key folder: two lowercase hex digits. */
export const isKeyFolder = (name: string): boolean => /^[a-f\d]{2}$/.test(name)
/** The image or the record of an entry: `<64 hex>.<ext>` */
export const ENTRY_FILE = /^([a-f\d]{64})\.(?:json|jpg|png|webp|avif)$/
/** A temp file of the top-level files (`prune.json`, `remote.json`) while one is written */
export const TOP_TEMP_FILE = /^(?:prune|remote)\.json\.\d+\.[a-f\d]{8}\.tmp$/
/** The lock of a key while a build works on it */
export const LOCK_FILE = /^[a-f\d]{64}\.lock$/
/** A readable-name copy in `named/<key>/`: `hero@2x.png`, `hero@2x.png.<pid>.<random>.tmp` while written */
export const NAMED_FILE = /^[^/\\]+@[124]x\.(?:jpg|png|webp|avif)(?:\.\d+\.[a-f\d]{8}\.tmp)?$/
/** The journal of a paid task not cached yet */
export const JOURNAL_FILE = /^[a-f\d]{64}\.task\.json$/
/** A temp file of an atomic write (`<name>.<pid>.<random>.tmp`) */
export const TEMP_FILE = /^[a-f\d]{64}\.[\w.]+\.\d+\.[a-f\d]{8}\.tmp$/

export class CacheLayout {
  constructor(readonly dir: string) {}

  folder(key: string): string {
    return join(this.dir, key.slice(0, 2))
  }

  recordPath(key: string): string {
    return join(this.folder(key), `${key}.json`)
  }

  imagePath(key: string, format: string): string {
    return join(this.folder(key), `${key}.${extensionOf(format)}`)
  }

  lockPath(key: string): string {
    return join(this.folder(key), `${key}.lock`)
  }

  /** `<dir>/named/<key>/<name>`: the entry's image under a readable name (same bytes). */
  namedPath(key: string, name: string): string {
    return join(this.dir, NAMED_DIR, key, name)
  }

  journalPath(key: string): string {
    return join(this.folder(key), `${key}.task.json`)
  }
}
