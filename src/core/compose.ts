import type { UpscaledImage, UpscaleParams } from '../types'
import type { Upscaler } from './upscaler'
import { MIME } from './codegen'
import { UpscaleError } from './errors'
import { wantsPlaceholder } from './placeholder'
import { badMarker, BUNDLER_KEYS, disagree, MARKERS, QueryError, SEVERAL_FILES, SRCSET_FORMATS } from './query'

/**
 * `?upscale` beside another image plugin (vite-imagetools, and so `@sveltejs/enhanced-img`): this
 * plugin enhances, the other resizes and converts the enhanced file. The shape markers keep their
 * meaning there too: `upscale=srcset|picture|metadata|variants` (or `as=` one of those) ask the
 * other plugin for its metadata and shape it as this plugin does, so that the module matches its
 * type in client.d.ts whichever plugin made the files.
 */

/** Query keys this plugin reads when another image plugin takes the rest (and what bundlers add). */
const OWN_KEYS = new Set(['upscale', 'scale', 'scale_factor', 'type', ...BUNDLER_KEYS])
export type Shape = typeof MARKERS[number]

export interface ComposedQuery {
  /** the id with only this plugin's keys (the marker as a bare `upscale`) */
  ours: string
  /** the other plugin's directives (without a shape this plugin gives) */
  theirs: URLSearchParams
  /** the shape this plugin makes of the other plugin's metadata; none: the other plugin's own output */
  shape?: Shape
  /** several images (a srcset, a picture, variants, or lists of widths or formats) */
  several: boolean
}

/**
 * Split an `?upscale` id whose query holds another plugin's directives; undefined when it holds
 * none (this plugin's own import). Throws QueryError where the native import would.
 */
export function splitComposed(id: string): ComposedQuery | undefined {
  const q = id.indexOf('?')
  const query = new URLSearchParams(id.slice(q + 1))
  const own = new URLSearchParams()
  const theirs = new URLSearchParams()
  for (const [key, value] of query)
    (OWN_KEYS.has(key) ? own : theirs).append(key, value)
  if ([...theirs.keys()].length === 0)
    return undefined
  const marker = own.get('upscale') ?? ''
  const as = theirs.get('as')
  const shapeOf = (v: string | null): Shape | undefined => (MARKERS as readonly string[]).includes(v ?? '') ? v as Shape : undefined
  if (marker !== '' && marker !== 'true' && !shapeOf(marker))
    throw new QueryError(badMarker(marker))
  if (shapeOf(marker) && as !== null && as !== marker)
    throw new QueryError(disagree(marker, as))
  const shape = shapeOf(marker) ?? shapeOf(as)
  if (shape)
    theirs.delete('as')
  own.set('upscale', '')
  // what the other plugin makes: one image per width and format
  const count = (key: string) => theirs.get(key)?.split(';').length ?? 1
  const several = count('w') > 1 || count('format') > 1 || ['srcset', 'picture', 'variants'].includes(shape ?? '')
  // no shape of ours: the other plugin's own output, which is one URL unless its own `as` (or
  // enhanced-img's `enhanced`) says otherwise
  const theirOutput = (as !== null && as !== 'url') || theirs.has('enhanced')
  if (!shape && !theirOutput && (count('w') > 1 || count('format') > 1))
    throw new QueryError(SEVERAL_FILES)
  if (shape === 'srcset' && count('format') > 1)
    throw new QueryError(SRCSET_FORMATS)
  return { ours: `${id.slice(0, q)}?${own.toString().replace(/=(?=&|$)/g, '')}`, theirs, shape, several }
}

/**
 * The module of a shaped composed import: the other plugin's metadata of `target` (the enhanced
 * file with its directives), with this plugin's fields, in the shape asked for (see codegen.ts for
 * the same shapes made by this plugin alone).
 */
export function composedModuleCode(
  target: string,
  shape: Shape,
  several: boolean,
  fixed: Omit<UpscaledImage, 'src' | 'width' | 'height' | 'format'>,
): string {
  const separator = target.includes('?') ? '&' : '?'
  const lines = [
    `import found from ${JSON.stringify(`${target}${separator}as=metadata`)};`,
    `const fixed = ${JSON.stringify(fixed)};`,
    `const normal = f => (f === 'jpg' ? 'jpeg' : f);`,
    `const list = [found].flat().map(i => ({ src: i.src, width: i.width, height: i.height, format: normal(i.format), ...fixed }));`,
    `const srcset = l => l.map(i => \`\${i.src} \${i.width}w\`).join(', ');`,
    `const { blurDataURL, blurWidth, blurHeight, dominantColor } = fixed;`,
    `const placeholder = blurDataURL ? { blurDataURL, blurWidth, blurHeight, dominantColor } : {};`,
  ]
  if (!several) {
    lines.push(
      `export const metadata = list[0];`,
      `export const width = metadata.width;`,
      `export const height = metadata.height;`,
      `export const format = metadata.format;`,
      `export default metadata;`,
    )
    return `${lines.join('\n')}\n`
  }
  lines.push(`export const metadata = list;`)
  switch (shape) {
    case 'srcset':
      lines.push(`export default srcset([...list].sort((a, b) => a.width - b.width));`)
      break
    case 'picture':
      // every format but the last is a <source>; the last is the <img>, at its largest width
      lines.push(
        `const mime = ${JSON.stringify(MIME)};`,
        `const formats = [...new Set(list.map(i => i.format))];`,
        `const of = f => list.filter(i => i.format === f).sort((a, b) => a.width - b.width);`,
        `const fallback = of(formats.at(-1));`,
        `const img = fallback.at(-1);`,
        `export default {`,
        `  sources: formats.slice(0, -1).map(f => ({ type: mime[f] ?? \`image/\${f}\`, srcset: srcset(of(f)) })),`,
        `  img: { src: img.src, srcset: srcset(fallback), width: img.width, height: img.height, ...placeholder },`,
        `};`,
      )
      break
    default:
      lines.push(`export default list;`)
  }
  return `${lines.join('\n')}\n`
}

/** What a composed import resolves to: the file the other plugin reads, and this plugin's fields. */
export interface ComposedTarget {
  target: string
  fixed: Omit<UpscaledImage, 'src' | 'width' | 'height' | 'format'>
}

interface ComposedLoad {
  id: string
  file: string
  params: UpscaleParams
  query: ComposedQuery
  /** the import as messages show it (made only when one does) */
  label: () => string
  /** the other plugin, by name */
  other: string
}

/**
 * `?upscale` with another image plugin's directives (`?w=400&format=webp&upscale`): enhance now,
 * and resolve to the enhanced file under a readable name with the other directives, so that the
 * other plugin sees an ordinary image, which is the enhanced one. Held back (dry run) or failed
 * with `onError: 'original'`, the other plugin gets the source instead, and the build says so.
 */
export async function loadComposed(upscaler: Upscaler, load: ComposedLoad): Promise<ComposedTarget> {
  const { id, file, params, query, label, other } = load
  const { theirs } = query
  // the source's size is read only for a shape of ours (its metadata has `originalWidth`), and a
  // placeholder made for a metadata shape
  const placeholder = query.shape !== undefined && wantsPlaceholder({ as: query.shape })
  const unenhanced = async (): Promise<ComposedTarget> => {
    if (!query.shape)
      return { target: `${file}?${theirs}`, fixed: { originalWidth: 0, originalHeight: 0, scale: 1, type: params.type } }
    const { metadata } = await upscaler.pipeline.originalImage(file, params, { placeholder })
    const { width, height, blurDataURL, blurWidth, blurHeight, dominantColor } = metadata
    const fixed = { originalWidth: width, originalHeight: height, scale: 1 as const, type: params.type }
    return { target: `${file}?${theirs}`, fixed: placeholder ? { ...fixed, blurDataURL, blurWidth, blurHeight, dominantColor } : fixed }
  }
  upscaler.report.imageStarted(id)
  let outcome
  try {
    const single = { ...params, format: 'original' as const, as: 'url' as const, variants: undefined }
    outcome = await upscaler.pipeline.process(file, single, { placeholder })
  }
  catch (error) {
    upscaler.report.imageFinished('failed', undefined, id)
    const failure = upscaler.failure(label(), error)
    if (upscaler.options.onError === 'original' && !(error instanceof UpscaleError)) {
      upscaler.report.warn(`${failure.message}\nIt goes to ${other} unenhanced (onError: 'original'); the next build tries again.`)
      return unenhanced()
    }
    throw failure
  }
  if (outcome.status !== 'done') {
    upscaler.report.imageFinished('held', undefined, id)
    if (outcome.status === 'held')
      upscaler.hold(label(), outcome.reason)
    return unenhanced()
  }
  const { image } = outcome
  upscaler.report.imageFinished(image.cached ? 'cached' : 'enhanced', image.engine, id)
  const { width: _, height: __, format: ___, ...fixed } = image.metadata
  return { target: `${await upscaler.pipeline.named(image)}?${theirs}`, fixed }
}
