import type { EnhanceType, OutputFormat, Scale, UpscaleParams } from '../types'
import type { PresetQuery } from './presets'
import { parseUpscaleId } from './query'

/** The parameters of one image, as the JS API and the CLI take them (the query's, as values). */
export interface ImageParams {
  scale?: Scale | `${1 | 2 | 4}`
  type?: EnhanceType
  /** one format, or several for responsive variants */
  format?: 'original' | OutputFormat | ReadonlyArray<'original' | OutputFormat>
  quality?: number | string
  /** widths of responsive variants (`[480, 960]`, or `'480;960'`) */
  w?: number | readonly number[] | string
}

type Defaults = { scale: Scale, type: EnhanceType }

/** The same keys, with values not checked yet (command-line strings, untyped JS). */
type Loose<T> = { [K in keyof T]?: unknown }

/**
 * The same parameters as an import query gives, checked by the same parser, so every way in
 * accepts exactly the same values. Throws QueryError naming the parameter.
 */
export function paramsFrom(
  given: Loose<ImageParams & { as: string }>,
  defaults: Defaults,
  preset: PresetQuery = {},
): UpscaleParams {
  const query = new URLSearchParams({ upscale: '' })
  for (const key of ['scale', 'type', 'format', 'quality', 'w', 'as'] as const) {
    const value = given[key] ?? preset[key]
    if (value !== undefined)
      query.set(key, Array.isArray(value) ? value.join(';') : String(value))
  }
  return parseUpscaleId(`x?${query}`, defaults)!.params
}
