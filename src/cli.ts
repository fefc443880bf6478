#!/usr/bin/env node
import type { RemoteTotals } from './core/cache'
import type { UpscaleResult } from './core/manifest'
import type { Options, UpscaleParams } from './types'
import { readdir } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import process from 'node:process'
import { parseArgs } from 'node:util'
import { clear, defaultCacheDir, DiskCache, ensureDir, isKeyFolder, NAMED_DIR, PRUNE_MARKER, readJson, REMOTE_STATS, TOP_TEMP_FILE, writeAtomic } from './core/cache'
import { resultOf } from './core/manifest'
import { paramsFrom } from './core/params'
import { HELD_MESSAGES } from './core/pipeline'
import { QueryError } from './core/query'
import { expandSources } from './core/sources'
import { createUpscaler } from './core/upscaler'

const HELP = {
  main: `Usage: unplugin-upscale <command> [options]

Commands:
  enhance <files…>   enhance images with the same engine and cache as the bundler plugin
  cache stats        what the cache holds
  cache prune        remove entries unused for long, or beyond a size
  cache clear        remove the whole cache

Run 'unplugin-upscale <command> --help' for its options.
Exit codes: 0 done, 1 an image or the cache failed, 2 wrong usage.`,
  enhance: `Usage: unplugin-upscale enhance <files, folders or 'globs'…> [options]

Enhances each image and writes <name>@<n>x.<ext> to --out. A folder is walked for images, its
subfolders kept under --out; a quoted glob ('src/**/*.jpg') is expanded the same way on every
shell. Two sources that would be written to one path stop the command before anything is written.
An image already in the cache costs nothing.

Options:
  --scale <auto|1|2|4>   enlargement (default auto: long side ≤ 512 → 4x, ≤ 1024 → 2x, else 1x)
  --type <clean|face>    kind of image (default clean)
  --format <original|jpeg|png|webp|avif>   output format (default original)
  --quality <1-100>      encoder quality
  --out <dir>            where to write (default ./upscaled)
  --dir <dir>            cache directory (default .upscale-cache beside package.json)
  --provider <auto|api|local>   engine (default auto: the API when UPSCALE_API_TOKEN is set)
  --offline              never call the API; fail for images not in the cache
  --dry-run              call nothing; list what would be sent to the API
  --quiet                print errors only
  --json                 print one JSON manifest (source, file, src, width, height, format,
                         scale, type, key, cached) instead of a line per image
  -h, --help             this text

Environment: UPSCALE_API_TOKEN, UPSCALE_API_URL, UPSCALE_OFFLINE=1, UPSCALE_DRY_RUN=1.`,
  stats: `Usage: unplugin-upscale cache stats [--dir <dir>] [--json]

Prints the number of entries, their size, and how recently they were used.`,
  prune: `Usage: unplugin-upscale cache prune [--dir <dir>] [--max-age <days>] [--max-size <MB>]

Removes entries unused for more than --max-age days (default 180), then the least recently used
until the cache fits in --max-size megabytes (default: no limit).`,
  clear: `Usage: unplugin-upscale cache clear [--dir <dir>]

Removes every entry of the cache directory, and the directory.`,
}

class UsageError extends Error {}

const MB = 1024 * 1024
const size = (bytes: number): string => (bytes >= MB ? `${(bytes / MB).toFixed(1)} MB` : `${(bytes / 1024).toFixed(1)} KB`)

/** parseArgs, with its complaints (unknown option, missing value) as usage errors. */
function usage<T>(parse: () => T): T {
  try {
    return parse()
  }
  catch (error) {
    throw new UsageError((error as Error).message)
  }
}
const HELP_FLAG = { type: 'boolean', short: 'h' } as const

function number(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined)
    return fallback
  const n = Number(text)
  if (!(n >= 0) || !Number.isFinite(n))
    throw new UsageError(`--${name} must be a number ≥ 0 (got "${text}")`)
  return n
}

async function enhance(argv: string[]): Promise<number> {
  const { values, positionals } = usage(() => parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'scale': { type: 'string' },
      'type': { type: 'string' },
      'format': { type: 'string' },
      'quality': { type: 'string' },
      'out': { type: 'string' },
      'dir': { type: 'string' },
      'provider': { type: 'string' },
      'offline': { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      'quiet': { type: 'boolean' },
      'json': { type: 'boolean' },
      'help': HELP_FLAG,
    },
  }))
  if (values.help) {
    console.log(HELP.enhance)
    return 0
  }
  if (positionals.length === 0)
    throw new UsageError('name at least one image file, folder or quoted glob')

  // the query parser checks the values, so the CLI, the JS API and imports accept the same ones
  let params: UpscaleParams
  try {
    params = paramsFrom(values, { scale: 'auto', type: 'clean' })
  }
  catch (error) {
    if (error instanceof QueryError)
      throw new UsageError(error.message.replaceAll('`', '--').replace(/--(\w+)--/g, '--$1'))
    throw error
  }

  const root = process.cwd()
  const raw: Options = { cacheDir: values.dir, logLevel: values.quiet ? 'silent' : 'info' }
  if (values.provider !== undefined)
    raw.provider = values.provider as Options['provider']
  if (values.offline)
    raw.offline = true
  if (values['dry-run'])
    raw.dryRun = true
  const upscaler = createUpscaler(raw, { root, out: process.stderr })
  const { report, pipeline } = upscaler
  const out = resolve(values.out ?? 'upscaled')

  let sources
  try {
    sources = await expandSources(positionals, root)
  }
  catch (error) {
    throw new UsageError((error as Error).message)
  }
  // every output path is known before anything is enhanced or written: two sources for one path
  // are an error that names both, and nothing is written
  const targets = new Map<string, string>()
  const planned: Array<{ source: string, target: string }> = []
  let failed = 0
  for (const { file, subdir } of sources) {
    const name = await pipeline.outputName(file, params).catch((error) => {
      failed++
      console.error(upscaler.failure(upscaler.show(file), error).message)
      return undefined
    })
    if (!name)
      continue
    const target = join(out, subdir, name)
    const other = targets.get(target)
    if (other)
      throw new UsageError(`${upscaler.show(other)} and ${upscaler.show(file)} would both be written to ${upscaler.show(target)}; enhance them into different --out folders, or name them apart`)
    targets.set(target, file)
    planned.push({ source: file, target })
  }

  upscaler.startBuild()
  const manifest: UpscaleResult[] = []
  await Promise.all(planned.map(async ({ source, target }) => {
    report.imageStarted(source)
    try {
      const outcome = await pipeline.process(source, params)
      if (outcome.status === 'done') {
        const { image } = outcome
        await ensureDir(dirname(target))
        await writeAtomic(target, image.data)
        report.imageFinished(image.cached ? 'cached' : 'enhanced', image.engine, source)
        const shown = upscaler.show(target)
        manifest.push({ ...resultOf(image, target, shown.replaceAll('\\', '/')), source: upscaler.show(source) })
        if (!values.quiet && !values.json)
          console.log(`${shown}  ${image.metadata.width}×${image.metadata.height} ${image.metadata.format}${image.cached ? ' (cached)' : ''}`)
        return
      }
      report.imageFinished('held', undefined, source)
      if (outcome.status === 'held' && outcome.reason === 'dryRun') {
        // stdout is the manifest's alone with --json
        ;(values.json ? console.error : console.log)(`would send ${upscaler.show(source)} to the API (billable)`)
        return
      }
      failed++
      console.error(upscaler.failure(upscaler.show(source), new Error(outcome.status === 'held' ? HELD_MESSAGES[outcome.reason] : 'it is not in the cache')).message)
    }
    catch (error) {
      failed++
      report.imageFinished('failed', undefined, source)
      console.error(upscaler.failure(upscaler.show(source), error).message)
    }
  }))
  await upscaler.endBuild()
  if (values.json)
    console.log(JSON.stringify(manifest.sort((a, b) => a.source.localeCompare(b.source)), null, 2))
  return failed ? 1 : 0
}

async function cache(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  if (!sub || sub === '--help' || sub === '-h') {
    console.log(HELP.main)
    return sub ? 0 : 2
  }
  if (!['stats', 'prune', 'clear'].includes(sub))
    throw new UsageError(`unknown cache command "${sub}"; the commands are stats, prune, clear`)
  const { values } = usage(() => parseArgs({
    args: rest,
    options: { 'dir': { type: 'string' }, 'json': { type: 'boolean' }, 'max-age': { type: 'string' }, 'max-size': { type: 'string' }, 'help': HELP_FLAG },
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
    console.log(`${dir}\n${entries.length} entries, ${size(bytes)}${stats.oldestUse ? `\nlast used between ${stats.oldestUse} and ${stats.newestUse}` : ''}`)
    if (remote)
      console.log(`remote cache over ${remote.builds} builds: ${remote.hits} hits, ${remote.misses} misses, ${remote.uploads} uploads${remote.rejected ? `, ${remote.rejected} rejected` : ''}`)
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
    console.error(`unplugin-upscale: left ${left.length} file${left.length === 1 ? '' : 's'} that ${left.length === 1 ? 'is' : 'are'} not cache entries: ${left.join(', ')}`)
    return 1
  }
  return 0
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  try {
    if (command === 'enhance')
      return await enhance(rest)
    if (command === 'cache')
      return await cache(rest)
    if (command === '--help' || command === '-h' || command === 'help') {
      console.log(HELP.main)
      return 0
    }
    if (command === '--version' || command === '-v') {
      console.log(createRequire(import.meta.url)('../package.json').version)
      return 0
    }
    throw new UsageError(command ? `unknown command "${command}"` : 'name a command')
  }
  catch (error) {
    if (error instanceof UsageError) {
      console.error(`unplugin-upscale: ${error.message}\n\n${HELP.main}`)
      return 2
    }
    console.error(`unplugin-upscale: ${(error as Error).message}`)
    return 1
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code
})
