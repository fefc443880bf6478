// The packed package in a fresh app with the current Astro, which needs Node 22.12 or later:
// .ci/run runs this file under the registry's Node 22 and 24 (it is not part of `npm test`,
// which runs on Node 20 and builds Astro 5 in test/astro.test.ts).
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { packedApp, run } from '../helpers/pack'
import { FIXTURES } from '../helpers/project'
import { readmeSnippets } from '../helpers/readme'

describe('the current Astro, with the packed package', () => {
  it('`astro build` of the README\'s page optimises the enhanced file', { timeout: 300_000 }, async () => {
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(22)
    // the newest Astro that runs on the registry's Node 22 (22.23.3): Astro 7.4 asks for 22.23.4
    const { app, versionOf } = await packedApp(['astro@~7.3.5'])
    console.info(`Astro ${await versionOf('astro')} on Node ${process.versions.node}`)
    await mkdir(join(app, 'src/pages'), { recursive: true })
    await mkdir(join(app, 'src/images'), { recursive: true })

    const [config, page] = readmeSnippets('### Astro')
    await writeFile(join(app, 'astro.config.mjs'), config)
    await writeFile(join(app, 'src/pages/index.astro'), page)
    await cp(join(FIXTURES, 'bird.png'), join(app, 'src/images/bird.png'))
    const built = await run(join(app, 'node_modules/.bin/astro'), ['build'], { cwd: app, env: { ...process.env, UPSCALE_API_TOKEN: '', ASTRO_TELEMETRY_DISABLED: '1' }, maxBuffer: 1 << 24 })
    expect(built.stdout + built.stderr).toMatch(/1 image: 0 cached, 1 enhanced \(1 local\)/)
    const html = await readFile(join(app, 'dist/index.html'), 'utf8')
    const img = /<img[^>]*>/.exec(html)![0]
    const src = /\ssrc="([^"]+)"/.exec(img)![1]
    expect(/\swidth="(\d+)"/.exec(img)![1]).toBe('576')
    expect(await sharp(join(app, 'dist', src)).metadata()).toMatchObject({ width: 576, height: 576 })
  })
})
