import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import sharp from 'sharp'
import { expect } from 'vitest'

/** A loopback port nothing listens on. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as { port: number }
  await new Promise(r => server.close(r))
  return port
}

/**
 * A framework's own server (`vite preview`, `vite dev`, `react-router-serve`…) started with
 * `args(port)`, until `stop()`; ready once its output says `ready`, and then probed at `/`.
 */
/** `env` may depend on the port, for servers that read it from there (`PORT`). */
interface ServeOptions { cwd: string, env: NodeJS.ProcessEnv | ((port: number) => NodeJS.ProcessEnv), ready: RegExp }

export async function serveWith(command: string, args: (port: number) => string[], { cwd, env, ready }: ServeOptions) {
  const port = await freePort()
  const child: ChildProcess = spawn(command, args(port), { cwd, env: typeof env === 'function' ? env(port) : env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let output = ''
  const collect = (c: Buffer): void => {
    output += c
  }
  child.stdout!.on('data', collect)
  child.stderr!.on('data', collect)
  const origin = `http://127.0.0.1:${port}`
  const stop = async (): Promise<void> => {
    try {
      process.kill(-child.pid!, 'SIGTERM')
    }
    catch {}
    await new Promise(r => (child.exitCode !== null ? r(undefined) : child.on('close', r)))
  }
  const deadline = Date.now() + 90_000
  while (!ready.test(output)) {
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop()
      throw new Error(`${command} ${args(port).join(' ')} did not start:\n${output}`)
    }
    await new Promise(r => setTimeout(r, 200))
  }
  return { origin, stop, output: () => output }
}

export const attr = (tag: string, name: string): string | undefined =>
  new RegExp(`\\s${name}="([^"]*)"`, 'i').exec(tag)?.[1]?.replaceAll('&amp;', '&')

/** The `<img>` tags of a page, in order. */
export const imgTags = (html: string): string[] => [...html.matchAll(/<img\b[^>]*>/g)].map(m => m[0])

/** Fetch an image URL from a server; its size and format, read back with sharp. */
export async function fetchedImage(origin: string, url: string) {
  const res = await fetch(new URL(url, origin))
  if (res.status !== 200)
    throw new Error(`${url}: HTTP ${res.status}`)
  const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata()
  return { width: meta.width, height: meta.height, format: meta.format }
}

/**
 * The README's page of the Vite frameworks (Nuxt, React Router): the metadata import's `<img>` and
 * the URL import's, both 560 wide (a 280-px hero at 2x), one enhanced file at a URL like `src`.
 */
export async function checkHeroPage(origin: string, src: RegExp): Promise<void> {
  const html = await (await fetch(`${origin}/`)).text()
  const [meta, plain] = imgTags(html)
  expect(attr(meta, 'width'), html).toBe('560')
  expect(attr(plain, 'width'), html).toBe('560')
  expect(attr(plain, 'src')).toBe(attr(meta, 'src'))
  expect(attr(meta, 'src')).toMatch(src)
  expect(await fetchedImage(origin, attr(meta, 'src')!)).toMatchObject({ width: 560, height: 560, format: 'jpeg' })
}
