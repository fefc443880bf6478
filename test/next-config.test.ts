import { describe, expect, it } from 'vitest'
import withUpscale from '../src/next'

/** What withUpscale does to an app's own Next config (the real builds are in test/hosts/next.test.ts). */
describe('withUpscale keeps the app\'s own config', () => {
  it('runs the app\'s webpack function first, then adds its rule and tells Next\'s image rule to leave ?upscale alone', () => {
    const seen: string[] = []
    const config = withUpscale({ reactStrictMode: true, webpack: (c: any, { isServer }: any) => {
      seen.push(isServer ? 'server' : 'client')
      c.module.rules.push({ test: /\.svg$/, use: ['@svgr/webpack'] })
      return c
    } })
    expect(config.reactStrictMode).toBe(true)
    const imageRule = { test: /\.(png|jpg)$/i, loader: 'next-image-loader', resourceQuery: { not: [/__next_metadata__/] } }
    const out = config.webpack!({ module: { rules: [{ oneOf: [] }, imageRule] } }, { isServer: true })
    expect(seen).toEqual(['server'])
    const rules = out.module.rules
    expect(rules[0].resourceQuery.test('?scale=2&upscale')).toBe(true)
    expect(rules[0].use[0].loader).toMatch(/next-loader\.cjs$/)
    expect(rules.some((r: any) => String(r.test) === String(/\.svg$/))).toBe(true)
    expect(imageRule.resourceQuery.not.map(String)).toEqual([String(/__next_metadata__/), String(/[?&]upscale(?:[=&]|$)/)])
  })

  it('puts its Turbopack rules first and makes the app\'s rules for the same files skip ?upscale', () => {
    const config = withUpscale({ turbopack: { resolveAlias: { a: 'b' }, rules: { '*.png': { loaders: ['my-png-loader'], as: '*.js' }, '*.md': ['md-loader'] } } })
    const { rules, resolveAlias } = config.turbopack as any
    expect(resolveAlias).toEqual({ a: 'b' })
    expect(rules['*.md']).toEqual(['md-loader'])
    const png = rules['*.png'] as any[]
    // ours: the module rule and one 'file' rule per output format, then the app's, told to skip ours
    expect(png).toHaveLength(6)
    expect(png[0].condition.query.test('?upscale')).toBe(true)
    expect(png[5]).toMatchObject({ loaders: ['my-png-loader'], as: '*.js' })
    expect(png[5].condition.not.query.test('?scale=2&upscale')).toBe(true)
    expect(png[5].condition.not.query.test('?upscale-file=abc%2Fa@2x.png')).toBe(true)
    expect(png[5].condition.not.query.test('?w=200')).toBe(false)
    for (const ext of ['jpg', 'jpeg', 'webp', 'avif', 'tif', 'tiff'])
      expect(rules[`*.${ext}`]).toHaveLength(5)
  })

  it('takes a config function (phase, context) as well', async () => {
    const config = withUpscale(async (phase: string) => ({ env: { phase } }))
    const resolved = await config('phase-production-build', { defaultConfig: {} })
    expect(resolved.env).toEqual({ phase: 'phase-production-build' })
    expect(typeof resolved.webpack).toBe('function')
  })
})
