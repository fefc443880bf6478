import type { UpscaledImage, UpscaleParams } from '../types'

/** One image of a module: a JS expression of its URL (a literal in dev, a bundler reference), and its metadata. */
export interface ModuleImage {
  src: string
  meta: Omit<UpscaledImage, 'src'>
  /** more properties, as JS source (`...blur(i0)`): what a host's own image handling adds */
  extra?: string
}

export const MIME: Record<string, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
  tiff: 'image/tiff',
}

/**
 * The JS module of one `?upscale` import. A single image exports its URL (or, with `as=metadata`,
 * its metadata) as the default, and `width`, `height`, `format`, `metadata`. Responsive variants
 * export what `as` asks for: a srcset string, a picture object, or an array of metadata.
 */
export function moduleCode(images: ModuleImage[], params: Pick<UpscaleParams, 'as' | 'variants'>, prelude: string[] = []): string {
  // a placeholder shared by several variants is written once (`const p0 = {…}`) and spread
  const shared: string[] = []
  const objects = images.map(({ src, meta, extra }) => {
    const { blurDataURL, blurWidth, blurHeight, dominantColor, ...rest } = meta
    const fields = Object.entries(rest).map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
    if (blurDataURL !== undefined) {
      const placeholder = JSON.stringify({ blurDataURL, blurWidth, blurHeight, dominantColor })
      const at = shared.includes(placeholder) ? shared.indexOf(placeholder) : shared.push(placeholder) - 1
      fields.push(`...p${at}`)
    }
    return `{ src: ${src}, ${[...fields, ...(extra ? [extra] : [])].join(', ')} }`
  })
  prelude = [...prelude, ...shared.map((p, i) => `const p${i} = ${p};`)]
  if (!params.variants) {
    const [{ meta }] = images
    return [
      ...prelude,
      `export const metadata = ${objects[0]};`,
      `export const width = ${meta.width};`,
      `export const height = ${meta.height};`,
      `export const format = ${JSON.stringify(meta.format)};`,
      `export default ${params.as === 'metadata' ? 'metadata' : 'metadata.src'};`,
      '',
    ].join('\n')
  }
  const lines = [...prelude, `export const metadata = [${objects.join(', ')}];`]
  const srcset = (list: string) => `${list}.map(i => \`\${i.src} \${i.width}w\`).join(', ')`
  switch (params.as) {
    case 'srcset':
      lines.push(`export default ${srcset('metadata')};`)
      break
    case 'picture': {
      // every format but the last is a <source>; the last is the <img>, at its largest width
      const formats = [...new Set(images.map(i => i.meta.format))]
      const fallback = formats.at(-1)!
      const source = (f: string): string =>
        `{ type: ${JSON.stringify(MIME[f] ?? `image/${f}`)}, srcset: ${srcset(`of(${JSON.stringify(f)})`)} }`
      lines.push(
        `const of = f => metadata.filter(i => i.format === f);`,
        `const fallback = of(${JSON.stringify(fallback)});`,
        `const img = fallback.reduce((a, b) => (b.width > a.width ? b : a));`,
        `export default {`,
        `  sources: [${formats.slice(0, -1).map(source).join(', ')}],`,
        `  img: { src: img.src, srcset: ${srcset('fallback')}, width: img.width, height: img.height${shared.length ? ', ...p0' : ''} },`,
        `};`,
      )
      break
    }
    default:
      // `as=url`: one width and one format; `as=variants` (and `as=metadata` on a list): the array
      lines.push(`export default ${params.as === 'url' ? 'metadata[0].src' : 'metadata'};`)
  }
  return `${lines.join('\n')}\n`
}
