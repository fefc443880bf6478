import { describe, expect, it } from 'vitest'
import { autoScale, parseUpscaleId } from '../src/core/query'

const D = { scale: 'auto', type: 'clean' } as const
const parse = (id: string, defaults: { scale: 'auto' | 1 | 2 | 4, type: 'clean' | 'face' } = D) => parseUpscaleId(id, defaults)

describe('parseUpscaleId', () => {
  it('ignores ids without an upscale key', () => {
    for (const id of ['/a/hero.jpg', '/a/hero.jpg?url', '/a/hero.jpg?scale=4', '/a/hero.jpg?upscaled', '/a/hero.jpg?no-upscale', '/a/upscale.jpg'])
      expect(parse(id), id).toBeNull()
  })

  it('fills defaults', () => {
    expect(parse('/a/hero.jpg?upscale')).toEqual({
      file: '/a/hero.jpg',
      params: { scale: 'auto', type: 'clean', as: 'url', format: 'original', quality: undefined },
    })
    expect(parse('/a/hero.jpg?upscale', { scale: 2, type: 'face' })!.params).toMatchObject({ scale: 2, type: 'face' })
  })

  it.each([
    ['?scale=auto&upscale', { scale: 'auto' }],
    ['?scale=1&upscale', { scale: 1 }],
    ['?scale=2&upscale', { scale: 2 }],
    ['?upscale&scale=4', { scale: 4 }],
    ['?scale_factor=4&upscale', { scale: 4 }],
    ['?scale=2&scale_factor=2&upscale', { scale: 2 }],
    ['?type=face&upscale', { type: 'face' }],
    ['?type=clean&upscale', { type: 'clean' }],
    ['?as=metadata&upscale', { as: 'metadata' }],
    ['?as=url&upscale', { as: 'url' }],
    ['?scale=2&upscale=metadata', { as: 'metadata', scale: 2 }],
    ['?w=800;400&as=srcset&upscale', { as: 'srcset', variants: { widths: [400, 800], formats: ['original'] } }],
    ['?format=avif;webp&w=480&upscale=picture', { as: 'picture', format: 'avif', variants: { widths: [480], formats: ['avif', 'webp'] } }],
    ['?w=480&upscale', { as: 'url', variants: { widths: [480], formats: ['original'] } }],
    ['?upscale=metadata&as=metadata', { as: 'metadata' }],
    ['?format=webp&quality=70&upscale', { format: 'webp', quality: 70 }],
    ['?format=avif&upscale', { format: 'avif' }],
    ['?format=png&upscale', { format: 'png' }],
    ['?format=jpeg&quality=1&upscale', { format: 'jpeg', quality: 1 }],
    ['?format=original&quality=100&upscale', { format: 'original', quality: 100 }],
    ['?upscale=true', {}],
    ['?upscale&import', {}],
    ['?upscale&t=1700000000000', {}],
  ])('parses %s', (query, expected) => {
    expect(parse(`/a/hero.jpg${query}`)!.params).toMatchObject(expected)
  })

  it('keeps the file part as it is, whatever the order of parameters', () => {
    expect(parse('/a b/hé#ro.png?scale=4&type=face&upscale')!.file).toBe('/a b/hé#ro.png')
    expect(parse('/a/x.png?upscale&scale=4&type=face')).toEqual(parse('/a/x.png?type=face&upscale&scale=4'))
  })

  it.each([
    ['?scale=3&upscale', /`scale` must be one of auto, 1, 2, 4 \(got "3"\)/],
    ['?scale=&upscale', /`scale` must be one of/],
    ['?scale_factor=8&upscale', /`scale_factor` must be one of auto, 1, 2, 4 \(got "8"\)/],
    ['?scale=2&scale_factor=4&upscale', /disagree/],
    ['?type=anime&upscale', /`type` must be one of clean, face \(got "anime"\)/],
    ['?as=src&upscale', /`as` must be one of url, metadata/],
    ['?format=gif&upscale', /`format` must be one of original, jpeg, png, webp, avif \(got "gif"\)/],
    ['?quality=0&upscale', /`quality` must be a whole number from 1 to 100 \(got "0"\)/],
    ['?quality=101&upscale', /`quality`/],
    ['?quality=7.5&upscale', /`quality`/],
    ['?quality=high&upscale', /`quality`/],
    ['?w=200;&upscale', /`w` is a list separated by `;`, with no empty item/],
    ['?w=0&upscale', /`w` takes whole widths in pixels from 1 to 16384/],
    ['?w=400;800&upscale', /several widths or formats make several files: ask for `as=srcset`, `as=picture` or `as=variants`/],
    ['?format=avif;webp&as=srcset&upscale', /a srcset has one format; for several, ask for `as=picture`/],
    ['?format=webp;webp&as=picture&upscale', /`format` names an item twice/],
    ['?w=1&bogus&upscale', /unknown query parameter `bogus`/],
    ['?scale=2&scale=4&upscale', /`scale` is given more than once/],
    ['?upscale=no', /`upscale` takes no value, or one of metadata, srcset, picture, variants \(got "no"\)/],
    ['?as=url&upscale=metadata', /`upscale=metadata` and `as=url` disagree; keep one/],
    ['?upscale#frag', /a fragment \(`#frag`\) means nothing to an image import/],
  ])('rejects %s', (query, message) => {
    expect(() => parse(`/a/hero.jpg${query}`)).toThrow(message)
  })
})

describe('autoScale', () => {
  it.each([
    [1, 1, 4], [512, 100, 4], [100, 512, 4], [513, 10, 2], [1024, 1024, 2], [1025, 5, 1], [4096, 4096, 1],
  ])('%i×%i → %ix', (w, h, s) => {
    expect(autoScale(w, h)).toBe(s)
  })
})
