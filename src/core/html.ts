import type { UpscaleResult } from './manifest'
import { MIME } from './codegen'
import { UpscaleError } from './errors'

/** Attributes of the `<img>` that `html()` writes; any other attribute is passed through as given. */
export interface HtmlOptions {
  /**
   * The text alternative. Required: a screen reader reads it in the image's place, and a search
   * engine indexes it. `''` marks a decorative image, which assistive technology then skips.
   */
  alt: string
  /** the `sizes` of a srcset with widths @default '100vw' */
  sizes?: string
  /** @default 'lazy' (`'eager'` for the image at the top of a page) */
  loading?: 'lazy' | 'eager'
  /** @default 'async' */
  decoding?: 'async' | 'sync' | 'auto'
  class?: string
  /**
   * Show the placeholder while the image loads: `'blur'` its blurred copy as the background,
   * `'color'` its dominant colour. Written into the `style` attribute, before any `style` given.
   * @default undefined (none)
   */
  placeholder?: 'blur' | 'color'
  /** more attributes (`id`, `style`, `fetchpriority`, `data-*`); `true` writes a bare one, `false` none */
  [attribute: string]: string | number | boolean | undefined
}

const ATTRIBUTE_NAME = /^[a-z_:][-\w:.]*$/i

/** Text as an attribute value between double quotes. */
const escape = (value: string): string =>
  value.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('\'', '&#39;')

function attributes(list: Array<[string, string | number | boolean | undefined]>): string {
  return list
    .filter(([, v]) => v !== undefined && v !== false)
    .map(([k, v]) => (v === true ? ` ${k}` : ` ${k}="${escape(String(v))}"`))
    .join('')
}

const srcsetOf = (list: UpscaleResult[]): string => list.map(i => `${i.src} ${i.width}w`).join(', ')

/**
 * The markup of an `upscale()` result: `<img>` for one format, `<picture>` with a `<source>` per
 * format but the last (which is the `<img>`) for several; `srcset` and `sizes` where there are
 * widths; `width` and `height` of the image, `loading="lazy"` and `decoding="async"` unless told.
 */
export function html(result: UpscaleResult, options: HtmlOptions): string {
  if (typeof result !== 'object' || result === null || typeof result.src !== 'string')
    throw new UpscaleError('html(result, { alt }): `result` must be what upscale() resolved to')
  if (typeof options?.alt !== 'string') {
    throw new UpscaleError(`html(${JSON.stringify(result.source ?? result.src)}): \`alt\` is missing; every image needs a text `
      + `alternative, read in its place by screen readers (WCAG 1.1.1). Describe the image, or pass \`alt: ''\` for one that is only `
      + `decoration`)
  }
  const { alt, sizes, loading = 'lazy', decoding = 'async', placeholder, ...rest } = options
  for (const [name, value] of Object.entries(rest)) {
    if (!ATTRIBUTE_NAME.test(name))
      throw new UpscaleError(`html(): \`${name}\` is not an attribute name`)
    if (['src', 'srcset', 'width', 'height'].includes(name.toLowerCase()))
      throw new UpscaleError(`html(): \`${name}\` comes from the result; html() writes it`)
    if (value !== undefined && !['string', 'number', 'boolean'].includes(typeof value))
      throw new UpscaleError(`html(): attribute \`${name}\` must be a string, a number or a boolean (got ${typeof value})`)
  }
  if (placeholder !== undefined && placeholder !== 'blur' && placeholder !== 'color')
    throw new UpscaleError(`html(): \`placeholder\` must be 'blur' or 'color' (got ${JSON.stringify(placeholder)})`)

  const variants = result.variants ?? [result]
  const formats = [...new Set(variants.map(v => v.format))]
  const of = (format: string): UpscaleResult[] =>
    variants.filter(v => v.format === format).sort((a, b) => a.width - b.width)
  const fallback = of(formats.at(-1)!)
  const img = fallback.at(-1)!
  const widths = fallback.length > 1 || formats.some(f => of(f).length > 1)
  const sizesValue = widths ? (sizes ?? '100vw') : undefined
  const style = [
    placeholder === 'color' ? `background-color:${img.dominantColor}` : undefined,
    placeholder === 'blur' ? `background:${img.dominantColor} url("${img.blurDataURL}") center/cover no-repeat` : undefined,
    typeof rest.style === 'string' ? rest.style : undefined,
  ].filter(Boolean).join(';')
  const { style: _, ...others } = rest
  const tag = `<img${attributes([
    ['src', img.src],
    ['alt', alt],
    ['width', img.width],
    ['height', img.height],
    ['srcset', widths ? srcsetOf(fallback) : undefined],
    ['sizes', sizesValue],
    ['loading', loading],
    ['decoding', decoding],
    ...Object.entries(others),
    ['style', style || undefined],
  ])}>`
  if (formats.length === 1)
    return tag
  const sources = formats.slice(0, -1).map((f) => {
    const list = of(f)
    const srcset = list.length > 1 ? srcsetOf(list) : list[0].src
    return `<source${attributes([['type', MIME[f] ?? `image/${f}`], ['srcset', srcset], ['sizes', sizesValue]])}>`
  })
  return `<picture>${sources.join('')}${tag}</picture>`
}
