import type { AddressInfo } from 'node:net'
import type { ViteDevServer } from 'vite'
import type { Engine } from '../../src/types'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createServer } from 'vite'
import { onTestFinished } from 'vitest'
import Upscale from '../../src/vite'

/** The app's own module: the dev server pays only for what the app imports */
export const APP = `import a from './bird.png?scale=2&upscale'\nexport default a\n`

/**
 * A real Vite dev server on a loopback port for `<dir>`, with `engine`, closed after the test. It is
 * first loaded as a browser would (the app's module, which imports bird.png at 2x), and records what
 * it tells the browser in `messages`.
 */
export async function devServer(dir: string, engine: Engine, base = '/') {
  const server: ViteDevServer = await createServer({
    root: dir,
    base,
    configFile: false,
    logLevel: 'silent',
    server: { host: '127.0.0.1', port: 0, ws: false },
    plugins: [Upscale({ cacheDir: join(dir, '.cache'), engine })],
  })
  await server.listen()
  onTestFinished(() => server.close())
  const origin = `http://127.0.0.1:${(server.httpServer!.address() as AddressInfo).port}`
  await writeFile(join(dir, 'src/main.js'), APP)
  await fetch(`${origin}${base}src/main.js`).then(r => r.text())
  const messages: Array<{ type: string }> = []
  const hot = server.environments.client.hot
  const send = hot.send.bind(hot) as (payload: { type: string }) => void
  hot.send = ((payload: { type: string }) => {
    messages.push(payload)
    send(payload)
  }) as typeof hot.send
  const get = (path: string): Promise<Response> => fetch(`${origin}${path}`)
  return { origin, messages, get, module: (path: string) => get(path).then(r => r.text()) }
}
