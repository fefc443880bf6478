/** `unplugin-upscale enhance`: the bundler plugin's engine and cache, for files on disk. */
import type { UpscaleResult } from '../core/manifest'
import type { Options, UpscaleParams } from '../types'
import { dirname, join, resolve } from 'node:path'
import process from 'node:process'
import { parseArgs } from 'node:util'
import { redactUrl } from '../core/body'
import { ensureDir, writeAtomic } from '../core/cache'
import { resultOf } from '../core/manifest'
import { paramsFrom } from '../core/params'
import { HELD_MESSAGES } from '../core/pipeline'
import { QueryError } from '../core/query'
import { fetchRemote, isRemote, remoteSettings } from '../core/remote-source'
import { expandSources } from '../core/sources'
import { createUpscaler } from '../core/upscaler'
import { HELP_FLAG, usage, UsageError } from './args'
import { HELP } from './help'

export async function enhance(argv: string[]): Promise<number> {
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
      'allow': { type: 'string', multiple: true },
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
  if (values.allow)
    raw.remotePatterns = values.allow.map(remotePatternOf)
  const upscaler = createUpscaler(raw, { root, out: process.stderr })
  const { report, pipeline } = upscaler
  const out = resolve(values.out ?? 'upscaled')

  // a URL is fetched now (its name and size come from its bytes), a path is read when it is enhanced
  const urls = positionals.filter(isRemote)
  let sources: Array<{ file: string, subdir: string, url?: string, bytes?: Buffer, sourceUrl?: string }>
  try {
    sources = await expandSources(positionals.filter(p => !isRemote(p)), root)
  }
  catch (error) {
    throw new UsageError((error as Error).message)
  }
  // every output path is known before anything is enhanced or written: two sources for one path
  // are an error that names both, and nothing is written
  const targets = new Map<string, string>()
  const planned: Array<{ source: string, target: string, bytes?: Buffer, sourceUrl?: string, label: string }> = []
  let failed = 0
  for (const url of urls) {
    try {
      const fetched = await fetchRemote(url, remoteSettings(upscaler))
      const { remoteByUrl } = upscaler.options
      const byUrl = remoteByUrl === 'always' || (remoteByUrl === 'https' && fetched.url.startsWith('https:'))
      const name = decodeURIComponent(new URL(url).pathname.split('/').pop() || '') || 'image'
      sources.push({ file: join(root, name), subdir: '', url, bytes: fetched.data, sourceUrl: byUrl ? fetched.url : undefined })
    }
    catch (error) {
      failed++
      console.error(upscaler.failure(redactUrl(url), error).message)
    }
  }
  for (const { file, subdir, url, bytes, sourceUrl } of sources) {
    const label = url ? redactUrl(url) : upscaler.show(file)
    const name = await pipeline.outputName(file, params, bytes).catch((error) => {
      failed++
      console.error(upscaler.failure(label, error).message)
      return undefined
    })
    if (!name)
      continue
    const target = join(out, subdir, name)
    const other = targets.get(target)
    if (other)
      throw new UsageError(`${other} and ${label} would both be written to ${upscaler.show(target)}; enhance `
        + `them into different --out folders, or name them apart`)
    targets.set(target, label)
    planned.push({ source: file, target, bytes, sourceUrl, label })
  }

  upscaler.startBuild()
  const manifest: UpscaleResult[] = []
  await Promise.all(planned.map(async ({ source, target, bytes, sourceUrl, label }) => {
    report.imageStarted(source)
    try {
      const outcome = await pipeline.process(source, params, { placeholder: true, source: bytes, sourceUrl })
      if (outcome.status === 'done') {
        const { image } = outcome
        await ensureDir(dirname(target))
        await writeAtomic(target, image.data)
        report.imageFinished(image.cached ? 'cached' : 'enhanced', image.engine, source)
        const shown = upscaler.show(target)
        manifest.push({ ...resultOf(image, target, shown.replaceAll('\\', '/')), source: label })
        const { width, height, format } = image.metadata
        if (!values.quiet && !values.json)
          console.log(`${shown}  ${width}×${height} ${format}${image.cached ? ' (cached)' : ''}`)
        return
      }
      report.imageFinished('held', undefined, source)
      if (outcome.status === 'held' && outcome.reason === 'dryRun') {
        // stdout is the manifest's alone with --json
        ;(values.json ? console.error : console.log)(`would send ${label} to the API (billable)`)
        return
      }
      failed++
      const why = outcome.status === 'held' ? HELD_MESSAGES[outcome.reason] : 'it is not in the cache'
      console.error(upscaler.failure(label, new Error(why)).message)
    }
    catch (error) {
      failed++
      report.imageFinished('failed', undefined, source)
      console.error(upscaler.failure(label, error).message)
    }
  }))
  await upscaler.endBuild()
  if (values.json)
    console.log(JSON.stringify(manifest.sort((a, b) => a.source.localeCompare(b.source)), null, 2))
  return failed ? 1 : 0
}

/** `--allow 'https://cms.example.com/media/**'`: a remote pattern written as a URL glob. */
function remotePatternOf(glob: string) {
  const m = /^(https?):\/\/([^/:?#]+)(?::(\d+))?(\/[^?#]*)?$/i.exec(glob)
  if (!m)
    throw new UsageError(`--allow takes a URL glob such as 'https://cms.example.com/media/**' (got ${JSON.stringify(glob)})`)
  return { protocol: m[1].toLowerCase(), hostname: m[2], port: m[3], pathname: m[4] ?? '/**' }
}
