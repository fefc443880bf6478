// Ambient declarations for `?upscale` imports. Add `"types": ["unplugin-upscale/client"]` to your
// tsconfig (or `/// <reference types="unplugin-upscale/client" />`). Put `upscale` last in the
// query so that these patterns match: TypeScript allows one wildcard per module name.

interface UpscaledImage {
  /** final URL of the enhanced image */
  src: string
  width: number
  height: number
  format: string
  originalWidth: number
  originalHeight: number
  scale: 1 | 2 | 4
  type: 'clean' | 'face'
}

declare module '*as=metadata&upscale' {
  const metadata: UpscaledImage
  export default metadata
  export const width: number
  export const height: number
  export const format: string
  export { metadata }
}

declare module '*?upscale' {
  const src: string
  export default src
  export const width: number
  export const height: number
  export const format: string
  export const metadata: UpscaledImage
}

declare module '*&upscale' {
  const src: string
  export default src
  export const width: number
  export const height: number
  export const format: string
  export const metadata: UpscaledImage
}
