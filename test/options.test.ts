import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { resolveOptions } from '../src/core/options'

const root = '/project'
const resolve = (o: object = {}, env: NodeJS.ProcessEnv = {}) => resolveOptions(o, root, env)

describe('resolveOptions', () => {
  it('fills every default', () => {
    const r = resolve()
    expect(r).toMatchObject({
      root,
      cacheDir: join(root, 'node_modules/.cache/unplugin-upscale'),
      provider: 'local',
      providerFallback: true,
      token: undefined,
      apiUrl: 'https://api.gpt.ge',
      defaults: { scale: 'auto', type: 'clean' },
      engine: undefined,
    })
    expect(r.filter('/project/src/a.png')).toBe(true)
  })

  it('picks the API when a token is set, from the option or the environment', () => {
    expect(resolve({ token: 't' })).toMatchObject({ provider: 'api', token: 't', providerFallback: false })
    expect(resolve({}, { UPSCALE_API_TOKEN: 'e' })).toMatchObject({ provider: 'api', token: 'e' })
    expect(resolve({ token: 't' }, { UPSCALE_API_TOKEN: 'e' }).token).toBe('t')
    expect(resolve({ provider: 'local' }, { UPSCALE_API_TOKEN: 'e' })).toMatchObject({ provider: 'local', providerFallback: false })
  })

  it('reads the API URL from the option, then the environment, without a trailing slash', () => {
    expect(resolve({}, { UPSCALE_API_URL: 'http://127.0.0.1:9/' }).apiUrl).toBe('http://127.0.0.1:9')
    expect(resolve({ apiUrl: 'https://x.test/base/' }, { UPSCALE_API_URL: 'http://y' }).apiUrl).toBe('https://x.test/base')
  })

  it('resolves cacheDir against the root and takes defaults', () => {
    expect(resolve({ cacheDir: '.up' }).cacheDir).toBe('/project/.up')
    expect(resolve({ cacheDir: '/abs/c' }).cacheDir).toBe('/abs/c')
    expect(resolve({ defaults: { scale: 2, type: 'face' } }).defaults).toEqual({ scale: 2, type: 'face' })
  })

  it('filters files with include and exclude (globs from the root, or RegExps)', () => {
    const r = resolve({ include: ['src/**/*.png', /\/photos\//], exclude: '**/skip/**' })
    expect(r.filter('/project/src/a/b.png')).toBe(true)
    expect(r.filter('/project/src/a/b.jpg')).toBe(false)
    expect(r.filter('/elsewhere/photos/b.jpg')).toBe(true)
    expect(r.filter('/project/src/skip/b.png')).toBe(false)
  })

  it.each([
    [{ provider: 'cloud' }, /option `provider` must be one of auto, api, local \(got "cloud"\)/],
    [{ provider: 'api' }, /option `provider` is 'api' but no token is configured/],
    [{ apiUrl: 'not a url' }, /option `apiUrl` must be an http\(s\) URL \(got "not a url"\)/],
    [{ apiUrl: 'ftp://x' }, /option `apiUrl` must be an http\(s\) URL/],
    [{ token: 42 }, /option `token` must be a string/],
    [{ cacheDir: '' }, /option `cacheDir` must be a non-empty path/],
    [{ defaults: { scale: 3 } }, /option `defaults.scale` must be one of auto, 1, 2, 4 \(got 3\)/],
    [{ defaults: { type: 'anime' } }, /option `defaults.type` must be one of clean, face/],
    [{ engine: {} }, /option `engine` must have/],
    [{ scale: 4 }, /option `scale` is not an option of unplugin-upscale/],
  ])('rejects %j', (options, message) => {
    expect(() => resolve(options)).toThrow(message)
  })

  it('prefixes errors with the plugin name', () => {
    expect(() => resolve({ provider: 'x' })).toThrow(/^\[unplugin-upscale\] /)
  })
})
