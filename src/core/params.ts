import type { EnhanceType, OutputFormat, Scale, UpscaleParams } from '../types'
import { parseUpscaleId } from './query'

/** The parameters of one image, as the JS API and the CLI take them (the query's, as values). */
export interface ImageParams {
  scale?: Scale | `${1 | 2 | 4}`
  type?: EnhanceType
  format?: 'original' | OutputFormat
  quality?: number | string
}

/** The same keys, with values not checked yet (command-line strings, untyped JS). */
type Loose<T> = { [K in keyof T]?: unknown }

/**
 * The same parameters as an import query gives, checked by the same parser, so every way in
 * accepts exactly the same values. Throws QueryError naming the parameter.
 */
export function paramsFrom(given: Loose<ImageParams>, defaults: { scale: Scale, type: EnhanceType }): UpscaleParams {
  const query = new URLSearchParams({ upscale: '' })
  for (const key of ['scale', 'type', 'format', 'quality'] as const) {
    if (given[key] !== undefined)
      query.set(key, String(given[key]))
  }
  return parseUpscaleId(`x?${query}`, defaults)!.params
}
