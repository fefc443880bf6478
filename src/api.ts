import type { UpscaleResult } from './core/manifest'
import type { ImageParams } from './core/params'
import type { Upscaler } from './core/upscaler'
import type { Options } from './types'
import { readFile } from 'node:fs/promises'
import { basename, isAbsolute, join, resolve } from 'node:path'
import { redactUrl } from './core/body'
import { ensureDir, writeAtomic } from './core/cache'
import { UpscaleError } from './core/errors'
import { resultOf } from './core/manifest'
import { paramsFrom } from './core/params'
import { HELD_MESSAGES } from './core/pipeline'
import { QueryError } from './core/query'
import { fetchRemote, isRemote, remoteSettings } from './core/remote-source'
import { createUpscaler } from './core/upscaler'
import { hashedName } from './emit/name'

export interface UpscaleOptions extends Options, ImageParams {
  /**
   * Where the enhanced file is written, with a content-hashed name (`hero@4x-1a2b3c4d.jpg`);
   * relative to the root. Without it, `file` is the entry in the cache.
   * @default undefined
   */
  outputDir?: string
  /**
   * The URL path the written files are served under: `src` is `urlPath` + the file name.
   * @default '/img/'
   */
  urlPath?: string
  /** a name for bytes given without a path, for file names and messages @default 'image' */
  name?: string
}

export type { HtmlOptions } from './core/html'
export { html } from './core/html'
export type { Preset } from './core/presets'
export type { UpscaleResult }

const PER_IMAGE = ['scale', 'type', 'format', 'quality', 'w', 'outputDir', 'urlPath', 'name'] as const

/**
 * An upscaler per set of options, for the whole process: a site generator calls `upscale()` once
 * per image, and they must share one budget, one progress line and one summary.
 */
const upscalers = new Map<string, Upscaler>()
/** functions, RegExps and engines in options compare by identity */
const identities = new WeakMap<object, number>()
let nextIdentity = 0

function upscalerFor(options: Options): Upscaler {
  const key = JSON.stringify(options, (_, v: unknown) => {
    if (typeof v !== 'function' && !(v instanceof RegExp) && !(v && typeof v === 'object' && 'enhance' in v))
      return v
    if (!identities.has(v as object))
      identities.set(v as object, ++nextIdentity)
    return `#${identities.get(v as object)}`
  })
  let upscaler = upscalers.get(key)
  if (!upscaler) {
    upscaler = createUpscaler(options)
    upscaler.startBuild()
    upscalers.set(key, upscaler)
    if (upscalers.size === 1) {
      // one summary per upscaler when the process is about to end (after a site build)
      process.once('beforeExit', () => {
        for (const u of upscalers.values())
          void u.endBuild().catch(error => console.error((error as Error).message))
        upscalers.clear()
      })
    }
  }
  return upscaler
}

/**
 * Enhance one image with the same engines, cache and locks as the bundler plugins:
 * `await upscale('src/hero.jpg', { scale: 4, outputDir: '_site/img' })`.
 */
export async function upscale(input: string | Uint8Array, options: UpscaleOptions = {}): Promise<UpscaleResult> {
  const upscaleOptions: Options = { ...options }
  for (const key of PER_IMAGE)
    delete (upscaleOptions as Record<string, unknown>)[key]
  const upscaler = upscalerFor(upscaleOptions)
  const { root } = upscaler.options
  const remote = typeof input === 'string' && isRemote(input)
  const path = typeof input === 'string' && !remote ? input : undefined
  const remoteName = remote ? decodeURIComponent(new URL(input).pathname.split('/').pop() || '') || 'image' : undefined
  const file = path !== undefined ? (isAbsolute(path) ? path : resolve(root, path)) : join(root, remoteName ?? options.name ?? 'image')
  const label = remote ? redactUrl(input as string) : path !== undefined ? upscaler.show(file) : (options.name ?? 'image')
  let params
  try {
    // widths or several formats: every variant, listed in the result's `variants`
    // a preset of the file fills what the call does not give (its `as` aside: the API has one shape)
    const { as: _, ...preset } = (path !== undefined && upscaler.options.presetFor?.(file)) || {}
    const format = options.format ?? preset.format?.split(';')
    const responsive = (options.w ?? preset.w) !== undefined || (Array.isArray(format) && format.length > 1)
    params = paramsFrom({ ...options, as: responsive ? 'variants' : undefined }, upscaler.options.defaults, preset)
  }
  catch (error) {
    if (error instanceof QueryError)
      throw new UpscaleError(`upscale(${JSON.stringify(label)}): ${error.message.replace('parameter', 'option')}`)
    throw error
  }

  const { report } = upscaler
  report.imageStarted(file)
  let outcome
  try {
    let source: Buffer | undefined
    let sourceUrl: string | undefined
    if (remote) {
      const fetched = await fetchRemote(input as string, remoteSettings(upscaler))
      source = fetched.data
      const { remoteByUrl } = upscaler.options
      if (remoteByUrl === 'always' || (remoteByUrl === 'https' && fetched.url.startsWith('https:')))
        sourceUrl = fetched.url
    }
    else if (typeof input !== 'string') {
      source = Buffer.from(input)
    }
    const how = { source, sourceUrl, placeholder: true }
    outcome = params.variants
      ? await upscaler.pipeline.processVariants(file, params, how)
      : await upscaler.pipeline.process(file, params, how)
          .then(o => (o.status === 'done' ? { status: o.status, images: [o.image] } : o))
  }
  catch (error) {
    report.imageFinished('failed', undefined, file)
    throw upscaler.failure(label, error)
  }
  if (outcome.status !== 'done') {
    report.imageFinished('held', undefined, file)
    const why = outcome.status === 'held' ? HELD_MESSAGES[outcome.reason] : 'it is not in the cache'
    throw upscaler.failure(label, new Error(why))
  }
  const { images } = outcome
  report.imageFinished(images[0].cached ? 'cached' : 'enhanced', images[0].engine, file)
  const source = path !== undefined ? file : label
  const results = await Promise.all(images.map(async (image) => {
    const name = hashedName(image)
    let written = join(upscaler.pipeline.cache.folder(image.key), `${image.key}.${image.ext}`)
    if (options.outputDir) {
      const dir = resolve(root, options.outputDir)
      written = join(dir, name)
      const same = await readFile(written).then(data => data.equals(image.data), () => false)
      if (!same) {
        await ensureDir(dir)
        await writeAtomic(written, image.data)
      }
    }
    const urlPath = options.urlPath ?? '/img/'
    const src = `${urlPath.endsWith('/') ? urlPath : `${urlPath}/`}${options.outputDir ? name : basename(written)}`
    return { ...resultOf(image, written, src), source }
  }))
  if (!params.variants)
    return results[0]
  // the widest of the first format stands for the image; every variant is in `variants`
  return { ...results.filter(r => r.format === results[0].format).at(-1)!, variants: results }
}

export default upscale
