import { describe, expect, it } from 'vitest'
import { resolveOptions } from '../src/core/options'
import { parseUpscaleId } from '../src/core/query'
import { compileRemotePatterns, matchRemote } from '../src/core/remote-source'

const root = '/project'
const resolve = (o: object) => resolveOptions(o, root, {})
const defaults = { scale: 'auto' as const, type: 'clean' as const }

describe('presets', () => {
  const { presetFor } = resolve({
    presets: {
      'src/photos/**': { scale: 4, format: 'webp', quality: 80 },
      'src/**/*.jpg': { type: 'face' },
      'src/gallery/**': { w: [480, 960], format: ['avif', 'webp'], as: 'picture' },
    },
  })
  const parse = (id: string, single = false) => parseUpscaleId(id, defaults, presetFor, { single })!.params

  it('gives a file the parameters of the first glob that matches it, relative to the root', () => {
    expect(parse('/project/src/photos/a.png?upscale')).toMatchObject({ scale: 4, format: 'webp', quality: 80, type: 'clean' })
    // src/photos/b.jpg matches the photos glob first: the .jpg glob does not apply
    expect(parse('/project/src/photos/b.jpg?upscale')).toMatchObject({ scale: 4, type: 'clean' })
    expect(parse('/project/src/c.jpg?upscale')).toMatchObject({ scale: 'auto', type: 'face', format: 'original' })
    expect(parse('/project/other/a.png?upscale')).toMatchObject({ scale: 'auto', type: 'clean', format: 'original', quality: undefined })
  })

  it('lets the query override any parameter, `scale_factor` and a shape marker included', () => {
    expect(parse('/project/src/photos/a.png?scale=2&format=png&upscale')).toMatchObject({ scale: 2, format: 'png', quality: 80 })
    expect(parse('/project/src/photos/a.png?scale_factor=1&upscale')).toMatchObject({ scale: 1 })
    expect(parse('/project/src/gallery/a.png?upscale=variants')).toMatchObject({
      as: 'variants',
      variants: { widths: [480, 960], formats: ['avif', 'webp'] },
    })
    expect(parse('/project/src/gallery/a.png?w=300&format=jpeg&as=url&upscale')).toMatchObject({
      as: 'url',
      variants: { widths: [300], formats: ['jpeg'] },
    })
  })

  it('a preset\'s widths need a shape: an import that gives none fails naming the preset', () => {
    const { presetFor: widths } = resolve({ presets: { 'src/**': { w: [480, 960] } } })
    expect(parseUpscaleId('/project/src/a.png?upscale=srcset', defaults, widths)!.params).toMatchObject({ as: 'srcset' })
    expect(() => parseUpscaleId('/project/src/a.png?upscale', defaults, widths))
      .toThrow(/several widths or formats make several files.*\(its widths or formats come from its preset in `presets`\)/)
  })

  it('a stylesheet or page URL takes one image: a preset\'s widths, shape and format lists do not apply', () => {
    expect(parse('/project/src/gallery/a.png?upscale', true)).toMatchObject({ as: 'url', format: 'original', variants: undefined })
    expect(parse('/project/src/photos/a.png?upscale', true)).toMatchObject({ scale: 4, format: 'webp' })
  })

  it.each([
    [{ presets: [] }, /option `presets` must be an object of globs/],
    [{ presets: { '': { scale: 2 } } }, /option `presets` has an empty glob/],
    [{ presets: { 'a/**': 2 } }, /option `presets\["a\/\*\*"\]` must be an object of parameters/],
    [{ presets: { 'a/**': { size: 2 } } }, /option `presets\["a\/\*\*"\]` has `size`, which is not a parameter; the parameters are scale, type/],
    [{ presets: { 'a/**': { scale: 3 } } }, /option `presets\["a\/\*\*"\]`: `scale` must be one of auto, 1, 2, 4 \(got "3"\)/],
    [{ presets: { 'a/**': { quality: 101 } } }, /`quality` must be a whole number from 1 to 100/],
    [{ presets: { 'a/**': { w: [480, 960], as: 'url' } } }, /several widths or formats make several files/],
    [{ presets: { 'a/**': { w: '480;;960' } } }, /`w` is a list separated by `;`, with no empty item/],
  ])('is checked at startup: %j', (options, message) => {
    expect(() => resolve(options)).toThrow(message)
  })
})

describe('remotePatterns', () => {
  it.each([
    [{ remotePatterns: {} }, /option `remotePatterns` must be an array/],
    [{ remotePatterns: [{}] }, /option `remotePatterns\[0\]` must have a `hostname`/],
    [{ remotePatterns: [{ hostname: 'a.test', protocol: 'ftp' }] }, /`remotePatterns\[0\]\.protocol` must be 'https' or 'http'/],
    [{ remotePatterns: [{ hostname: 'a.test', pathname: 'media/**' }] }, /`remotePatterns\[0\]\.pathname` must be a glob starting with \//],
    [{ remotePatterns: [{ hostname: 'a.test', search: '' }] }, /`remotePatterns\[0\]` has `search`/],
    [{ remoteByUrl: 'sometimes' }, /option `remoteByUrl` must be 'https', 'always' or 'never'/],
  ])('is checked at startup: %j', (options, message) => {
    expect(() => resolve(options)).toThrow(message)
  })
})

describe('remotePatterns match as in Next.js and Astro', () => {
  const patterns = compileRemotePatterns([
    { protocol: 'https', hostname: '*.example.com', pathname: '/media/*' },
    { hostname: '**.cdn.test', port: '8443' },
    { protocol: 'https:', hostname: 'cms.test', pathname: '/a/**' },
  ])
  it.each([
    ['https://img.example.com/media/a.jpg', 0],
    ['https://a.b.example.com/media/a.jpg', undefined],
    ['https://example.com/media/a.jpg', undefined],
    ['http://img.example.com/media/a.jpg', undefined],
    ['https://img.example.com/media/x/a.jpg', undefined],
    ['https://a.b.cdn.test:8443/any/thing.png', 1],
    ['https://cdn.test:8443/x.png', undefined],
    ['https://x.cdn.test/x.png', undefined],
    ['https://CMS.test/a/b/c%20d.png', 2],
    ['https://cms.test/b/c.png', undefined],
  ])('%s → pattern %s', (url, index) => {
    const found = matchRemote(new URL(url), patterns)
    expect(found === undefined ? undefined : patterns.indexOf(found)).toBe(index)
  })
})
