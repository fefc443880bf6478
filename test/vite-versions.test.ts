import type { build } from 'vite'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { build as vite5 } from 'vite5'
import { build as vite6 } from 'vite6'
import { build as vite7 } from 'vite7'
import { describe, expect, it } from 'vitest'
import { countingEngine, emitted, tempProject, viteBuild } from './helpers/project'

// Every Vite major in `peerDependencies` builds a client and an SSR bundle here (Vite 8 is the
// rest of the suite; each alias is that major's real package, see devDependencies).
const VITES = { 5: vite5, 6: vite6, 7: vite7 } as unknown as Record<string, typeof build>

const MAIN = `
import bird from './bird.png?scale=2&upscale'
import meta from './head.jpg?scale=2&as=metadata&upscale'
globalThis.result = { bird, meta }
`

describe.each(Object.keys(VITES))('Vite %s', (major) => {
  it('emits the enhanced files in client and SSR builds, at the same URL', async () => {
    const dir = await tempProject()
    const { engine, calls } = countingEngine()
    const client = await viteBuild(dir, MAIN, { vite: VITES[major], options: { engine } })
    const ssr = await viteBuild(dir, MAIN, { vite: VITES[major], options: { engine }, ssr: true, outDir: 'server' })

    const bird = await emitted(client.out, client.result.bird)
    expect(bird).toMatchObject({ width: 576, height: 576, format: 'png' })
    expect(client.result.bird).toMatch(/^\/assets\/bird@2x-[\w-]+\.png$/)
    expect(await emitted(client.out, client.result.meta.src)).toMatchObject({ width: 560, height: 560, format: 'jpeg' })
    expect(client.result.meta).toMatchObject({ width: 560, height: 560, scale: 2 })
    // the SSR build points at the same file name, never a file:// URL
    expect(ssr.result.bird).toBe(client.result.bird)
    expect((await readFile(join(dir, 'server/main.js'), 'utf8'))).not.toContain('file://')
    // two images, enhanced once each (the SSR build found them in the cache)
    expect(calls).toHaveLength(2)
  })
})
