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

/**
 * The module of an image left as it is, its URL from an import the bundler resolves to a string
 * (`specifier`, e.g. Vite's `file?url`): never what another plugin makes of a bare image import,
 * which may be an object (Astro's image metadata).
 */
export function originalModuleCode(specifier: string, meta: Omit<UpscaledImage, 'src'>, as: UpscaleParams['as']): string {
  return moduleCode('original', meta, as, [`import original from ${JSON.stringify(specifier)};`])
}
