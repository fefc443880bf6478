import { cp, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { packedApp, ROOT, run } from '../helpers/pack'
import { FIXTURES } from '../helpers/project'
import { readmeSnippets } from '../helpers/readme'
import { checkHeroPage, serveWith } from '../helpers/serve'

/**
 * React Router 8's framework mode (Node 22) from the packed package, as the README shows it:
 * vite.config.ts, the route, and the tsconfig's `types`. Built, served by `react-router-serve`
 * and `react-router dev`, and type-checked after `react-router typegen`.
 */
const REACT_ROUTER = [
  '@react-router/dev@8.4.0',
  'react-router@8.4.0',
  '@react-router/serve@8.4.0',
  '@react-router/node@8.4.0',
  'react@19.3.1',
  'react-dom@19.3.1',
  'vite@8',
  'typescript@5.9.3',
  '@types/react@19.3.3',
  '@types/node@20.19.43',
]
const [viteConfig, route, tsconfigTypes] = readmeSnippets('### React Router')

let app: string
const env = { ...process.env, UPSCALE_API_TOKEN: '', CI: '1' }
const bin = (name: string): string => join(app, 'node_modules/.bin', name)

beforeAll(async () => {
  const packed = await packedApp(REACT_ROUTER, { shared: true })
  app = packed.app
  await cp(join(ROOT, 'fixtures/react-router'), app, { recursive: true })
  await writeFile(join(app, 'vite.config.ts'), viteConfig)
  await cp(join(FIXTURES, 'head.jpg'), join(app, 'app/routes/hero.jpg'))
  await writeFile(join(app, 'app/routes/home.tsx'), route)
  // the template's tsconfig, with the README's `types`
  const tsconfig = JSON.parse(await readFile(join(app, 'tsconfig.json'), 'utf8'))
  tsconfig.compilerOptions.types = JSON.parse(tsconfigTypes).compilerOptions.types
  expect(tsconfig.compilerOptions.types).toContain('unplugin-upscale/client')
  await writeFile(join(app, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2))
  return packed.dispose
}, 300_000)

/** The page: in a build, the enhanced file under its asset name; in dev, the cached file under /@upscale/. */
const checkPage = (origin: string, dev = false): Promise<void> => checkHeroPage(origin, dev ? /^\/@upscale\/\S+\.jpg$/ : /^\/assets\/hero@2x-[\w-]+\.jpg$/)

describe('React Router 8 with the Vite plugin, from the packed package', () => {
  it('react-router build, and react-router-serve serves the enhanced images', async () => {
    const { stdout, stderr } = await run(bin('react-router'), ['build'], { cwd: app, env, maxBuffer: 1 << 24 })
    // the client build, then the server build (which finds both imports in the cache); the dev
    // server React Router reads its routes with keeps neither summary back
    const summaries = (stdout + stderr).match(/\[unplugin-upscale\] \d+ images?: .*/g)
    expect(summaries, stdout + stderr).toHaveLength(2)
    expect(summaries![0]).toMatch(/^\[unplugin-upscale\] 2 images: 0 cached, 2 enhanced \(2 local\), 0 failed/)
    expect(summaries![1]).toMatch(/^\[unplugin-upscale\] 2 images: 2 cached, 0 enhanced/)
    const server = await serveWith(bin('react-router-serve'), () => ['build/server/index.js'], { cwd: app, env: port => ({ ...env, HOST: '127.0.0.1', PORT: String(port) }), ready: /react-router-serve\] http/ })
    try {
      await checkPage(server.origin)
    }
    finally {
      await server.stop()
    }
  })

  it('react-router dev serves the enhanced images (warm cache)', async () => {
    const server = await serveWith(bin('react-router'), port => ['dev', '--host', '127.0.0.1', '--port', String(port), '--strictPort'], { cwd: app, env, ready: /Local/ })
    try {
      await checkPage(server.origin, true)
    }
    finally {
      await server.stop()
    }
  })

  it('tsc type-checks ?upscale imports with the README\'s types, after react-router typegen', async () => {
    await run(bin('react-router'), ['typegen'], { cwd: app, env })
    await run(bin('tsc'), ['--noEmit', '-p', '.'], { cwd: app, env })
    await writeFile(join(app, 'app/bad.ts'), `import hero from './routes/hero.jpg?scale=2&upscale=metadata'\nexport const src: string = hero\n`)
    const failed = await run(bin('tsc'), ['--noEmit', '-p', '.'], { cwd: app, env }).then(() => '', (e: { stdout: string }) => e.stdout)
    await rm(join(app, 'app/bad.ts'))
    expect(failed).toMatch(/app\/bad\.ts.*error TS2322/)
  })
})
