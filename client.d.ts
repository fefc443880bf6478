// Ambient declarations for `?upscale` imports; they stand alone (no `vite/client` needed), so they
// work in Vite, webpack, Rspack, Rollup, esbuild and Astro projects alike. Add them with
// `"types": ["unplugin-upscale/client"]` in the tsconfig that holds your app's code (for a project
// made by create-vite, `tsconfig.app.json`), or `/// <reference types="unplugin-upscale/client" />`.
//
// TypeScript allows one wildcard per module name, so the type comes from how the query ends:
//   './a.png?scale=2&upscale'           the URL (a string)
//   './a.png?scale=2&upscale=metadata'  the metadata object
//   './a.png?w=480;960&upscale=srcset'  a srcset string
//   './a.png?format=avif;webp&upscale=picture'   sources per format and a fallback img
//   './a.png?w=480;960&upscale=variants'          an array of metadata, one per variant
// Other parameters may stand in any order before that marker. (`as=<shape>&upscale` is typed too.)
// The same holds beside vite-imagetools: with its directives in the query (`&flip`, `&fit=cover`),
// each marker still gives the shape above.

/**
 * The metadata of an enhanced image; it satisfies Astro's `ImageMetadata` and, in a Next.js app,
 * `StaticImageData` (`next/image` takes it, with `placeholder="blur"`).
 */
interface UpscaledImage {
  /** final URL of the enhanced image */
  src: string
  width: number
  height: number
  /** 'jpeg' | 'png' | 'webp' | 'avif', or 'tiff' for a source shown unenhanced (dry run, dev-server miss) */
  format: 'jpeg' | 'png' | 'webp' | 'avif' | 'tiff'
  originalWidth: number
  originalHeight: number
  scale: 1 | 2 | 4
  type: 'clean' | 'face'
  /** the placeholder fields: in every metadata shape (see UpscaledMetadata), not beside a URL or srcset import */
  blurDataURL?: string
  blurWidth?: number
  blurHeight?: number
  dominantColor?: string
}

/** The metadata shapes (`upscale=metadata`, `upscale=variants`, `picture.img`) carry a placeholder. */
interface UpscaledMetadata extends UpscaledImage {
  /** a tiny blurred copy of the enhanced image, `data:image/webp;base64,…` (long side 16 px; in Next.js, Next's own) */
  blurDataURL: string
  /** the placeholder's size in pixels */
  blurWidth: number
  blurHeight: number
  /** the image's most common colour, `#rrggbb` */
  dominantColor: string
}

declare module '*upscale=metadata' {
  const metadata: UpscaledMetadata
  export default metadata
  export const width: number
  export const height: number
  export const format: UpscaledImage['format']
  export { metadata }
}

declare module '*as=metadata&upscale' {
  const metadata: UpscaledMetadata
  export default metadata
  export const width: number
  export const height: number
  export const format: UpscaledImage['format']
  export { metadata }
}

declare module '*as=srcset&upscale' {
  /** `url 480w, url 960w` */
  const srcset: string
  export default srcset
  export const metadata: UpscaledImage[]
}

declare module '*as=picture&upscale' {
  const picture: UpscaledPicture
  export default picture
  export const metadata: UpscaledMetadata[]
}

declare module '*as=variants&upscale' {
  const variants: UpscaledMetadata[]
  export default variants
  export { variants as metadata }
}

declare module '*?upscale' {
  const src: string
  export default src
  export const width: number
  export const height: number
  export const format: UpscaledImage['format']
  export const metadata: UpscaledImage
}

declare module '*&upscale' {
  const src: string
  export default src
  export const width: number
  export const height: number
  export const format: UpscaledImage['format']
  export const metadata: UpscaledImage
}

declare module '*upscale=srcset' {
  /** `url 480w, url 960w` */
  const srcset: string
  export default srcset
  export const metadata: UpscaledImage[]
}

/** What `upscale=picture` gives: a `<source>` per format but the last, and the last as the `<img>`. */
interface UpscaledPicture {
  sources: Array<{ type: string, srcset: string }>
  img: { src: string, srcset: string, width: number, height: number }
    & Pick<UpscaledMetadata, 'blurDataURL' | 'blurWidth' | 'blurHeight' | 'dominantColor'>
}

declare module '*upscale=picture' {
  const picture: UpscaledPicture
  export default picture
  export const metadata: UpscaledMetadata[]
}

declare module '*upscale=variants' {
  const variants: UpscaledMetadata[]
  export default variants
  export { variants as metadata }
}
