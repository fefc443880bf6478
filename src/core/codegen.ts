import type { UpscaledImage, UpscaleParams } from '../types'

/**
 * The JS module of one `?upscale` import. `srcExpression` is a JS expression for the final URL:
 * a string literal in dev, a bundler file-URL reference in builds.
 */
export function moduleCode(srcExpression: string, meta: Omit<UpscaledImage, 'src'>, as: UpscaleParams['as'], prelude: string[] = []): string {
  const fields = Object.entries(meta).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(', ')
  return [
    ...prelude,
    `const src = ${srcExpression};`,
    `export const width = ${meta.width};`,
    `export const height = ${meta.height};`,
    `export const format = ${JSON.stringify(meta.format)};`,
    `export const metadata = { src, ${fields} };`,
    `export default ${as === 'metadata' ? 'metadata' : 'src'};`,
    '',
  ].join('\n')
}

/** The module of an image left as it is: the bundler's own asset handling gives its URL. */
export function originalModuleCode(file: string, meta: Omit<UpscaledImage, 'src'>, as: UpscaleParams['as']): string {
  return moduleCode('original', meta, as, [`import original from ${JSON.stringify(file)};`])
}
