import type { EnhanceType, Scale, UpscaleParams } from '../types'
import type { PresetFor } from './presets'

export const SCALES = ['auto', '1', '2', '4'] as const
export const TYPES = ['clean', 'face'] as const
export const AS = ['url', 'metadata', 'srcset', 'picture', 'variants'] as const
/** `upscale=<marker>`: the same as `as=<marker>`, spelled so that TypeScript can type it (see client.d.ts) */
export const MARKERS = ['metadata', 'srcset', 'picture', 'variants'] as const
/** widths are whole pixels, up to this */
const MAX_WIDTH = 16384
export const FORMATS = ['original', 'jpeg', 'png', 'webp', 'avif'] as const

/** Query keys that bundlers and dev servers add to ids by themselves; they never change the result. */
export const BUNDLER_KEYS = new Set(['import', 't', 'v', 'used', 'direct'])
const KNOWN_KEYS = ['upscale', 'scale', 'scale_factor', 'type', 'as', 'format', 'quality', 'w']

export interface UpscaleImport {
  /** the file part of the id, without the query */
  file: string
  params: UpscaleParams
}

/** The messages a query gets wherever it is parsed (here, and beside another image plugin in compose.ts) */
export const SEVERAL_FILES = 'several widths or formats make several files: ask for `as=srcset`, `as=picture` or `as=variants` (an array '
  + 'of metadata)'
export const SRCSET_FORMATS = 'a srcset has one format; for several, ask for `as=picture`'
export const disagree = (marker: string, as: string) => `\`upscale=${marker}\` and \`as=${as}\` disagree; keep one`
export const badMarker = (flag: string) => `\`upscale\` takes no value, or one of ${MARKERS.join(', ')} (got "${flag}")`

/** Thrown for a query that asks for something that does not exist; the caller adds the importer. */
export class QueryError extends Error {
  override name = 'QueryError'
}

/** True when the id carries an `upscale` query key (cheap, for hook filters). */
export const UPSCALE_ID = /\?(?:.*&)?upscale(?:[=&#]|$)/

function oneOf<T extends string>(key: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value))
    return value as T
  throw new QueryError(`\`${key}\` must be one of ${allowed.join(', ')} (got "${value}")`)
}

/**
 * Parse an import id such as `/src/hero.jpg?scale=4&upscale`. Returns null when the query has no
 * `upscale` key; throws QueryError for unknown keys or values.
 */
export function parseUpscaleId(
  id: string,
  defaults: { scale: Scale, type: EnhanceType },
  presetFor?: PresetFor,
  { single = false }: { single?: boolean } = {},
): UpscaleImport | null {
  const q = id.indexOf('?')
  if (q < 0)
    return null
  const hash = id.indexOf('#', q)
  const query = new URLSearchParams(id.slice(q + 1, hash < 0 ? undefined : hash))
  if (!query.has('upscale'))
    return null
  if (hash >= 0)
    throw new QueryError(`a fragment (\`${id.slice(hash)}\`) means nothing to an image import and would hide \`upscale\` from other `
      + `plugins; remove it`)
  const preset = applyPreset(query, presetFor?.(id.slice(0, q)), single)

  const seen = new Set<string>()
  for (const key of query.keys()) {
    if (BUNDLER_KEYS.has(key))
      continue
    if (!KNOWN_KEYS.includes(key))
      throw new QueryError(`unknown query parameter \`${key}\`; the parameters are ${KNOWN_KEYS.join(', ')}`)
    if (seen.has(key))
      throw new QueryError(`\`${key}\` is given more than once`)
    seen.add(key)
  }

  // `upscale=metadata` is `as=metadata` spelled so that TypeScript can type it wherever the other
  // parameters stand (one wildcard per module name: the marker must end the query)
  const flag = query.get('upscale')!
  const marked = (MARKERS as readonly string[]).includes(flag) ? flag as typeof MARKERS[number] : undefined
  if (flag !== '' && flag !== 'true' && !marked)
    throw new QueryError(badMarker(flag))
  const as = marked ?? oneOf('as', query.get('as') ?? 'url', AS)
  if (marked && query.has('as') && query.get('as') !== marked)
    throw new QueryError(disagree(marked, query.get('as')!))

  const scale = query.get('scale')
  const alias = query.get('scale_factor')
  if (scale !== null && alias !== null && scale !== alias)
    throw new QueryError(`\`scale\` and its alias \`scale_factor\` disagree ("${scale}" and "${alias}")`)
  const scaleValue = scale ?? alias
  const scaleKey = scale !== null ? 'scale' : 'scale_factor'

  const formats = list('format', query.get('format') ?? 'original').map(f => oneOf('format', f, FORMATS))
  const widths = query.has('w') ? list('w', query.get('w')!).map(parseWidth) : undefined
  const responsive = widths !== undefined || formats.length > 1 || ['srcset', 'picture', 'variants'].includes(as)
  if (responsive && as === 'url' && ((widths?.length ?? 1) > 1 || formats.length > 1)) {
    const from = preset.includes('w') || preset.includes('format') ? ' (its widths or formats come from its preset in `presets`)' : ''
    throw new QueryError(SEVERAL_FILES + from)
  }
  if (as === 'srcset' && formats.length > 1)
    throw new QueryError(SRCSET_FORMATS)
  const qualityText = query.get('quality')
  let quality: number | undefined
  if (qualityText !== null) {
    quality = /^\d{1,3}$/.test(qualityText) ? Number(qualityText) : Number.NaN
    if (!(quality >= 1 && quality <= 100))
      throw new QueryError(`\`quality\` must be a whole number from 1 to 100 (got "${qualityText}")`)
  }

  return {
    file: id.slice(0, q),
    params: {
      scale: scaleValue === null ? defaults.scale : parseScale(scaleKey, scaleValue),
      type: query.has('type') ? oneOf('type', query.get('type')!, TYPES) : defaults.type,
      as,
      format: formats[0],
      quality,
      variants: responsive ? { widths: widths && [...new Set(widths)].sort((a, b) => a - b), formats } : undefined,
    },
  }
}

/**
 * A preset's parameters where the query has none of its own (`scale_factor` counts as `scale`, a
 * marker `upscale=metadata` as `as`). `single`: for a stylesheet's or a page's URL, which takes one
 * image, a preset's widths, shape and format lists do not apply.
 */
function applyPreset(query: URLSearchParams, preset: ReturnType<PresetFor>, single: boolean): string[] {
  const applied: string[] = []
  if (!preset)
    return applied
  const flag = query.get('upscale')
  for (const [key, value] of Object.entries(preset)) {
    if (query.has(key) || (key === 'scale' && query.has('scale_factor')) || (key === 'as' && flag !== '' && flag !== 'true'))
      continue
    if (single && (key === 'w' || key === 'as' || (key === 'format' && value.includes(';'))))
      continue
    query.set(key, value)
    applied.push(key)
  }
  return applied
}

/** `a;b;c`, each once. */
function list(key: string, value: string): string[] {
  const items = value.split(';')
  if (items.some(i => i === ''))
    throw new QueryError(`\`${key}\` is a list separated by \`;\`, with no empty item (got "${value}")`)
  if (new Set(items).size !== items.length)
    throw new QueryError(`\`${key}\` names an item twice (got "${value}")`)
  return items
}

function parseWidth(text: string): number {
  const w = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN
  if (!(w >= 1 && w <= MAX_WIDTH))
    throw new QueryError(`\`w\` takes whole widths in pixels from 1 to ${MAX_WIDTH}, separated by \`;\` (got "${text}")`)
  return w
}

function parseScale(key: string, value: string): Scale {
  const s = oneOf(key, value, SCALES)
  return s === 'auto' ? 'auto' : (Number(s) as Scale)
}

/** The service's rule for `auto`: long side ≤ 512 → 4x, ≤ 1024 → 2x, larger → 1x. */
export function autoScale(width: number, height: number): 1 | 2 | 4 {
  const long = Math.max(width, height)
  return long <= 512 ? 4 : long <= 1024 ? 2 : 1
}
