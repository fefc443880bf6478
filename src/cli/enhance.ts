/** `unplugin-upscale enhance`: the bundler plugin's engine and cache, for files on disk. */
import type { UpscaleResult } from '../core/manifest'
import type { Options, UpscaleParams } from '../types'
import { dirname, join, resolve } from 'node:path'
import process from 'node:process'
import { parseArgs } from 'node:util'
import { ensureDir, writeAtomic } from '../core/cache'
import { resultOf } from '../core/manifest'
import { paramsFrom } from '../core/params'
import { HELD_MESSAGES } from '../core/pipeline'
import { QueryError } from '../core/query'
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
      throw new UsageError(`${upscaler.show(other)} and ${upscaler.show(file)} would both be written to ${upscaler.show(target)}; enhance `
        + `them into different --out folders, or name them apart`)
    targets.set(target, file)
    planned.push({ source: file, target })
  }

  upscaler.startBuild()
  const manifest: UpscaleResult[] = []
  await Promise.all(planned.map(async ({ source, target }) => {
    report.imageStarted(source)
    try {
      const outcome = await pipeline.process(source, params, { placeholder: true })
      if (outcome.status === 'done') {
        const { image } = outcome
        await ensureDir(dirname(target))
        await writeAtomic(target, image.data)
        report.imageFinished(image.cached ? 'cached' : 'enhanced', image.engine, source)
        const shown = upscaler.show(target)
        manifest.push({ ...resultOf(image, target, shown.replaceAll('\\', '/')), source: upscaler.show(source) })
        const { width, height, format } = image.metadata
        if (!values.quiet && !values.json)
          console.log(`${shown}  ${width}×${height} ${format}${image.cached ? ' (cached)' : ''}`)
        return
      }
      report.imageFinished('held', undefined, source)
      if (outcome.status === 'held' && outcome.reason === 'dryRun') {
        // stdout is the manifest's alone with --json
        ;(values.json ? console.error : console.log)(`would send ${upscaler.show(source)} to the API (billable)`)
        return
      }
      failed++
      const why = outcome.status === 'held' ? HELD_MESSAGES[outcome.reason] : 'it is not in the cache'
      console.error(upscaler.failure(upscaler.show(source), new Error(why)).message)
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
