import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { describe, expect, it, onTestFinished } from 'vitest'
import { devServer } from './helpers/dev-server'
import { countingEngine, FIXTURES, listFiles, tempProject } from './helpers/project'

/**
 * What a client on the network can make the dev server do (issue 21, cases 3 and 4): a real Vite
 * dev server on a loopback port, driven over HTTP, with an engine that counts what it is asked.
 */
/** The dev server with an engine that counts what it is asked */
async function trustServer(dir: string) {
  const { engine, calls } = countingEngine()
  return { ...await devServer(dir, engine), calls }
}

const settle = () => new Promise(r => setTimeout(r, 500))

describe('the dev server keeps to Vite\'s file rules and pays only for the app\'s imports', () => {
  it('a `?upscale` request for a file outside server.fs.allow gets Vite\'s 403: nothing read, nothing enhanced', async () => {
    const dir = await tempProject()
    const outside = await mkdtemp(join(tmpdir(), 'upscale-secret-'))
    onTestFinished(() => rm(outside, { recursive: true, force: true }))
    await copyFile(join(FIXTURES, 'head.jpg'), join(outside, 'secret.jpg'))
    const { get, calls } = await trustServer(dir)
    const res = await get(`/@fs${outside}/secret.jpg?scale=2&upscale&import`)
    expect(res.status).toBe(403)
    expect(await res.text()).toContain('outside of Vite serving allow list')
    // what Vite gives the same file without us
    expect((await get(`/@fs${outside}/secret.jpg`)).status).toBe(403)
    await settle()
    // only the app's own import (bird.png, loaded with the page) was enhanced: nothing of the attacked file
    expect(calls.filter(c => !c.file.endsWith('/src/bird.png'))).toEqual([])
    expect((await listFiles(join(dir, '.cache'))).filter(f => /\.jpg$/.test(f))).toEqual([])
  })

  it('a file in server.fs.deny (.git/) is refused the same way', async () => {
    const dir = await tempProject()
    await mkdir(join(dir, '.git'))
    await copyFile(join(FIXTURES, 'head.jpg'), join(dir, '.git/secret.jpg'))
    const { get, calls } = await trustServer(dir)
    expect((await get('/.git/secret.jpg?scale=2&upscale&import')).status).toBe(403)
    await settle()
    // only the app's own import (bird.png, loaded with the page) was enhanced: nothing of the attacked file
    expect(calls.filter(c => !c.file.endsWith('/src/bird.png'))).toEqual([])
  })

  it('queries no module of the app makes get the original, and start no enhancement (paid or not)', async () => {
    const dir = await tempProject()
    const { get, calls } = await trustServer(dir)
    await get('/src/main.js').then(r => r.text())
    // 30 made-up variants of the project's images, as an anonymous client could send them
    const made = ['bird.png', 'head.jpg', 'woman.png', 'butterfly.png', 'monarch.jpg'].flatMap(file =>
      ['1', '2', '4'].flatMap(scale => ['clean', 'face'].map(type => `/src/${file}?scale=${scale}&type=${type}&upscale&import`)))
    expect(made).toHaveLength(30)
    const answers = await Promise.all(made.map(async path => (await get(path)).text()))
    for (const code of answers)
      expect(code).toMatch(/import original from/)
    await settle()
    // the app's own import is enhanced; none of the made-up ones
    expect(calls.map(c => `${c.file.split('/').pop()} x${c.scale} ${c.type}`)).toEqual(['bird.png x2 clean'])
  })

  it('the dev endpoint never serves a link planted at a cache entry\'s name', async () => {
    const dir = await tempProject()
    const { get } = await trustServer(dir)
    await get('/src/main.js').then(r => r.text())
    let code = ''
    for (let i = 0; i < 100 && !code.includes('@upscale/'); i++) {
      await new Promise(r => setTimeout(r, 50))
      code = await (await get('/src/bird.png?scale=2&upscale&import')).text()
    }
    const url = /src: "([^"]+@upscale\/[^"]+)"/.exec(code)![1]
    const [image] = (await listFiles(join(dir, '.cache'))).filter(f => /[\da-f]{64}\.png$/.test(f))
    const secret = await sharp({ create: { width: 7, height: 7, channels: 3, background: '#f00' } }).png().toBuffer()
    await writeFile(join(dir, 'secret.png'), secret)
    await rm(image)
    await symlink(join(dir, 'secret.png'), image)
    const res = await get(url)
    const body = Buffer.from(await res.arrayBuffer())
    expect(body.equals(secret)).toBe(false)
    if (res.status === 200) // made again, as a regular file in place of the link
      expect(await sharp(body).metadata()).toMatchObject({ width: 576, height: 576 })
    expect((await readFile(image)).equals(secret)).toBe(false)
  })
})
