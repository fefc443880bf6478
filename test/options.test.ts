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
      cacheDir: join(root, '.upscale-cache'),
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

describe('resolveOptions: API settings', () => {
  it('has defaults for every limit', () => {
    expect(resolve({ token: 't' })).toMatchObject({
      sync: false, concurrency: 4, rateLimit: 2, timeout: 30_000, taskTimeout: 90_000, retries: 4, retryDelay: 1000,
      pollInterval: 1000, maxUploadBytes: 15 * 1024 * 1024, maxUploadSide: 4096, maxTasks: Infinity, dryRun: false,
      publicUrl: undefined, callbackUrl: undefined,
    })
  })

  it('turns the dry run on from UPSCALE_DRY_RUN=1', () => {
    expect(resolve({}, { UPSCALE_DRY_RUN: '1' }).dryRun).toBe(true)
    expect(resolve({}, { UPSCALE_DRY_RUN: '0' }).dryRun).toBe(false)
    expect(resolve({ dryRun: false }, { UPSCALE_DRY_RUN: '1' }).dryRun).toBe(false)
  })

  it.each([
    [{ concurrency: 0 }, /option `concurrency` must be a whole number ≥ 1 \(got 0\)/],
    [{ concurrency: 2.5 }, /option `concurrency` must be a whole number/],
    [{ concurrency: Infinity }, /option `concurrency` must be a whole number ≥ 1 \(got Infinity\)/],
    [{ rateLimit: 0 }, /option `rateLimit` must be a number ≥ 0.01 \(or Infinity\)/],
    [{ timeout: '30s' }, /option `timeout` must be a number ≥ 1 \(got "30s"\)/],
    [{ retries: -1 }, /option `retries` must be a whole number ≥ 0/],
    [{ maxTasks: 1.5 }, /option `maxTasks` must be a whole number ≥ 0 \(or Infinity\)/],
    [{ sync: 'yes' }, /option `sync` must be true or false \(got "yes"\)/],
    [{ dryRun: 1 }, /option `dryRun` must be true or false/],
    [{ publicUrl: 'https://cdn' }, /option `publicUrl` must be a function/],
    [{ callbackUrl: 'hook' }, /option `callbackUrl` must be an http\(s\) URL \(got "hook"\)/],
  ])('rejects %j', (options, message) => {
    expect(() => resolve(options)).toThrow(message)
  })

  it('takes Infinity where it means "no limit"', () => {
    const unlimited = { rateLimit: Infinity, maxTasks: Infinity }
    expect(resolve(unlimited)).toMatchObject(unlimited)
  })
})

describe('resolveOptions: root', () => {
  it('defaults to the bundler\'s root, and resolves an explicit one against it', () => {
    expect(resolve().root).toBe('/project')
    expect(resolve({ root: 'site' })).toMatchObject({ root: '/project/site', cacheDir: '/project/site/.upscale-cache' })
    expect(resolve({ root: '/elsewhere' }).root).toBe('/elsewhere')
    expect(() => resolve({ root: '' })).toThrow(/option `root` must be a non-empty path/)
  })
})

describe('resolveOptions: reliability', () => {
  it('defaults: not offline, fail on errors, entries kept 180 days, no size limit', () => {
    expect(resolve()).toMatchObject({ offline: false, onError: 'fail', maxAge: 180 * 24 * 3_600_000, maxSize: Infinity })
  })

  it('goes offline from UPSCALE_OFFLINE=1, and then allows provider \'api\' without a token', () => {
    expect(resolve({}, { UPSCALE_OFFLINE: '1' }).offline).toBe(true)
    expect(resolve({ provider: 'api', offline: true })).toMatchObject({ provider: 'api', token: undefined, offline: true })
    expect(resolve({ provider: 'api' }, { UPSCALE_OFFLINE: '1' }).provider).toBe('api')
  })

  it.each([
    [{ offline: 'yes' }, /option `offline` must be true or false/],
    [{ onError: 'skip' }, /option `onError` must be 'fail' or 'original' \(got "skip"\)/],
    [{ maxAge: -1 }, /option `maxAge` must be a number ≥ 0 \(or Infinity\)/],
    [{ maxSize: '1GB' }, /option `maxSize` must be a number ≥ 0 \(or Infinity\) \(got "1GB"\)/],
  ])('rejects %j', (options, message) => {
    expect(() => resolve(options)).toThrow(message)
  })
})

describe('resolveOptions: credentials in URLs that do not parse', () => {
  // each was printed in full before (issue 21, case 8)
  const cases = [
    ['apiUrl', 'https://bob:hunter2secret@api.example.com:99999'],
    ['apiUrl', 'https://bob:hunter2secret@api example.com'],
    ['apiUrl', 'bob:hunter2secret@api.example.com'],
    ['callbackUrl', 'ftp://bob:hunter2secret@hooks.example.com'],
  ] as const
  for (const [option, url] of cases) {
    it(`${option}: ${url.replace('hunter2secret', '…')}`, () => {
      expect(() => resolve({ [option]: url })).toThrow(/\*\*\*@/)
      expect(() => resolve({ [option]: url })).not.toThrow(/hunter2secret|bob/)
    })
  }
  it('remoteCache.url', () => {
    for (const url of ['https://bob:hunter2secret@cache.example.com:99999', 'bob:hunter2secret@cache.example.com']) {
      expect(() => resolve({ remoteCache: { url } })).toThrow(/remoteCache\.url.*\*\*\*@/)
      expect(() => resolve({ remoteCache: { url } })).not.toThrow(/hunter2secret|bob/)
    }
  })
})
