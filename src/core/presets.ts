import type { ImageParams } from './params'
import { relative } from 'node:path'
import picomatch from 'picomatch'
import { UpscaleError } from './errors'
import { paramsFrom } from './params'
import { QueryError } from './query'

/** What a preset may set: the parameters of an import query, as values. */
export interface Preset extends ImageParams {
  /** the shape of the import (`metadata`, `srcset`, `picture`, `variants`, or `url`) */
  as?: 'url' | 'metadata' | 'srcset' | 'picture' | 'variants'
}

const PRESET_KEYS = ['scale', 'type', 'format', 'quality', 'w', 'as'] as const

/** A preset as query values (`w: [480, 960]` → `w=480;960`), checked once at startup. */
export type PresetQuery = Partial<Record<typeof PRESET_KEYS[number], string>>

/** The preset of a file (absolute path), or undefined: the first glob that matches wins. */
export type PresetFor = (file: string) => PresetQuery | undefined

/**
 * `presets: { 'src/photos/**': { scale: 4, format: 'webp' } }`, checked by the same parser as a
 * query, with the option's name in every error. Globs are relative to the root.
 */
export function resolvePresets(option: unknown, root: string): PresetFor | undefined {
  if (option === undefined)
    return undefined
  if (typeof option !== 'object' || option === null || Array.isArray(option))
    throw new UpscaleError('option `presets` must be an object of globs, e.g. { \'src/photos/**\': { scale: 4 } }')
  const list: Array<{ match: (path: string) => boolean, query: PresetQuery }> = []
  for (const [glob, preset] of Object.entries(option as Record<string, unknown>)) {
    const name = `presets[${JSON.stringify(glob)}]`
    if (glob.trim() === '')
      throw new UpscaleError('option `presets` has an empty glob; name files relative to the root, e.g. \'src/photos/**\'')
    if (typeof preset !== 'object' || preset === null || Array.isArray(preset))
      throw new UpscaleError(`option \`${name}\` must be an object of parameters (${PRESET_KEYS.join(', ')})`)
    const query: PresetQuery = {}
    for (const [key, value] of Object.entries(preset)) {
      if (!(PRESET_KEYS as readonly string[]).includes(key))
        throw new UpscaleError(`option \`${name}\` has \`${key}\`, which is not a parameter; the parameters are ${PRESET_KEYS.join(', ')}`)
      if (value !== undefined)
        query[key as keyof PresetQuery] = Array.isArray(value) ? value.join(';') : String(value)
    }
    try {
      // widths or a format list without `as` are for imports that give their shape (`upscale=srcset`)
      paramsFrom(query.as ? query : { ...query, as: 'variants' }, { scale: 'auto', type: 'clean' })
    }
    catch (error) {
      if (error instanceof QueryError)
        throw new UpscaleError(`option \`${name}\`: ${error.message.replace('parameter', 'option')}`)
      throw error
    }
    list.push({ match: picomatch(glob, { dot: true }), query })
  }
  return (file) => {
    const path = relative(root, file).replaceAll('\\', '/')
    return list.find(p => p.match(path))?.query
  }
}
