/** `unplugin-upscale cache stats|prune|clear`. */
import type { RemoteTotals } from '../core/cache'
import { readdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import process from 'node:process'
import { parseArgs } from 'node:util'
import {
  clear,
  defaultCacheDir,
  DiskCache,
  isKeyFolder,
  NAMED_DIR,
  PRUNE_MARKER,
  readJson,
  REMOTE_STATS,
  TOP_TEMP_FILE,
} from '../core/cache'
import { HELP_FLAG, MB, number, size, usage, UsageError } from './args'
import { HELP } from './help'

export async function cache(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  if (!sub || sub === '--help' || sub === '-h') {
    console.log(HELP.main)
    return sub ? 0 : 2
  }
  if (!['stats', 'prune', 'clear'].includes(sub))
    throw new UsageError(`unknown cache command "${sub}"; the commands are stats, prune, clear`)
  const { values } = usage(() => parseArgs({
    args: rest,
    options: {
      'dir': { type: 'string' },
      'json': { type: 'boolean' },
      'max-age': { type: 'string' },
      'max-size': { type: 'string' },
      'help': HELP_FLAG,
    },
  }))
  if (values.help) {
    console.log(HELP[sub as 'stats' | 'prune' | 'clear'])
    return 0
  }
  const dir = values.dir ? resolve(values.dir) : defaultCacheDir(process.cwd()).dir
  const store = new DiskCache(dir)

  if (sub === 'stats') {
    const entries = await store.entries()
    const bytes = entries.reduce((sum, e) => sum + e.bytes, 0)
    const used = entries.map(e => e.lastUsed).sort((a, b) => a - b)
    const when = (t: number | undefined): string | null => (t ? new Date(t).toISOString() : null)
    const remote = await readJson<RemoteTotals>(join(dir, REMOTE_STATS))
    const stats = {
      dir,
      entries: entries.length,
      bytes,
      oldestUse: when(used[0]),
      newestUse: when(used.at(-1)),
      ...(remote ? { remote } : {}),
    }
    if (values.json) {
      console.log(JSON.stringify(stats))
      return 0
    }
    const between = stats.oldestUse ? `\nlast used between ${stats.oldestUse} and ${stats.newestUse}` : ''
    console.log(`${dir}\n${entries.length} entries, ${size(bytes)}${between}`)
    if (remote) {
      const rejected = remote.rejected ? `, ${remote.rejected} rejected` : ''
      const { builds, hits, misses, uploads } = remote
      console.log(`remote cache over ${builds} builds: ${hits} hits, ${misses} misses, ${uploads} uploads${rejected}`)
    }
    return 0
  }
  if (sub === 'prune') {
    const maxAge = number('max-age', values['max-age'], 180) * 24 * 3_600_000
    const maxSize = values['max-size'] === undefined ? Infinity : number('max-size', values['max-size'], 0) * MB
    const r = await store.prune({ maxAge, maxSize })
    console.log(`removed ${r.removed} entries (${size(r.freed)}); ${r.remaining} left`)
    return 0
  }
  // clear: only a folder that holds nothing but cache entries
  const names = await readdir(dir).catch(() => undefined)
  if (!names) {
    console.log(`${dir} does not exist: nothing to clear`)
    return 0
  }
  const ours = (n: string): boolean =>
    isKeyFolder(n) || [PRUNE_MARKER, NAMED_DIR, REMOTE_STATS].includes(n) || TOP_TEMP_FILE.test(n)
  const stranger = names.find(n => !ours(n))
  if (stranger)
    throw new UsageError(`${dir} does not look like an unplugin-upscale cache (it holds "${stranger}"); not clearing it`)
  const { removed, bytes, left } = await clear(store)
  console.log(`removed ${removed} entries (${size(bytes)})${left.length ? '' : ` and ${dir}`}`)
  if (left.length) {
    const [files, are] = left.length === 1 ? ['file', 'is'] : ['files', 'are']
    console.error(`unplugin-upscale: left ${left.length} ${files} that ${are} not cache entries: ${left.join(', ')}`)
    return 1
  }
  return 0
}
