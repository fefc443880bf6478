import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import webpack from 'webpack'
import UpscaleWebpack from '../src/webpack'
import { writeMain } from './helpers/bundlers'
import { captureOutput, tempProject } from './helpers/project'

/**
 * A client and a server compilation at once, each with a plugin of its own (as Docusaurus and
 * other SSR setups run webpack): one summary line, each image counted once.
 */
describe('webpack MultiCompiler (client and server at once)', () => {
  it('prints one summary that counts each image once', async () => {
    const dir = await tempProject()
    await writeMain(dir, `import a from './bird.png?scale=2&upscale'\nimport b from './head.jpg?scale=2&upscale'\nimport c from './woman.png?scale=1&upscale'\nexport default [a, b, c]\n`)
    const config = (name: string, target: 'web' | 'node') => ({
      name,
      mode: 'production' as const,
      context: dir,
      target,
      entry: join(dir, 'src/main.js'),
      output: { path: join(dir, name), publicPath: '/static/' },
      module: { rules: [{ test: /\.(?:png|jpe?g)$/i, type: 'asset/resource' as const }] },
      infrastructureLogging: { level: 'none' as const },
      plugins: [UpscaleWebpack({ cacheDir: join(dir, '.cache'), provider: 'local' })],
    })
    const { output, error } = await captureOutput(async () => {
      const compiler = webpack([config('client', 'web'), config('server', 'node')])
      const stats = await promisify(compiler.run.bind(compiler))()
      await promisify(compiler.close.bind(compiler))()
      expect(stats!.hasErrors()).toBe(false)
    })
    expect(error).toBeUndefined()
    const summaries = output.match(/\[unplugin-upscale\] \d+ images?: .*/g)
    expect(summaries, output).toHaveLength(1)
    expect(summaries![0]).toMatch(/^\[unplugin-upscale\] 3 images: 0 cached, 3 enhanced \(3 local\), 0 failed/)
  })
})
