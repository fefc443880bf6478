import type { ScaleServer } from './server'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { Reporter } from '../src/core/report'
import { childBuild, tempProject } from './helpers/project'
import { startScaleServer } from './server'

function stream(isTTY: boolean) {
  const chunks: string[] = []
  return { chunks, out: { isTTY, write: (t: string) => chunks.push(t) } }
}

/** A build of 40 images: 3 cached, the rest enhanced two at a time. */
function simulate(r: Reporter, clock: { t: number }): void {
  for (let i = 0; i < 40; i++)
    r.imageStarted(`img${i}`)
  for (let i = 0; i < 3; i++)
    r.imageFinished('cached', undefined, `img${i}`)
  for (let i = 3; i < 40; i++) {
    r.engineStarted('api')
    r.taskSubmitted()
    clock.t += 150
    r.engineFinished('api')
    r.imageFinished(i === 7 ? 'failed' : 'enhanced', 'api', `img${i}`)
  }
}

describe('Reporter', () => {
  it('counts an image that ends again (a dev-server reload) once: never more done than images', () => {
    const { chunks, out } = stream(false)
    const r = new Reporter('info', out, false)
    for (const id of ['a', 'b', 'c'])
      r.imageStarted(id)
    r.engineStarted('local')
    r.imageFinished('cached', 'local', 'a')
    r.imageFinished('cached', 'local', 'b')
    r.engineFinished('local')
    // the background enhancement of c lands, and the reload of a and c comes through again
    r.imageFinished('enhanced', 'local', 'c')
    r.imageFinished('cached', 'local', 'a')
    r.imageFinished('enhanced', 'local', 'c')
    expect(r.progressLine()).toBe('upscale 3/3 · 2 cached · 0 in flight')
    r.summary()
    expect(chunks.join('')).toMatch(/3 images: 2 cached, 1 enhanced \(1 local\), 0 failed/)
  })

  it('on a terminal, updates one line in place, then clears it for the summary', () => {
    const { chunks, out } = stream(true)
    const clock = { t: 0 }
    const r = new Reporter('info', out, true, () => clock.t)
    simulate(r, clock)
    r.summary()
    const text = chunks.join('')
    expect(text).toContain('\r\x1B[Kupscale 3/40 · 3 cached · 1 in flight')
    expect(text).toContain('\r\x1B[Kupscale 40/40 · 3 cached · 0 in flight')
    expect(text.split('\n')).toHaveLength(2) // the progress never adds lines; only the summary does
    expect(text.endsWith('\r\x1B[K[unplugin-upscale] 40 images: 3 cached, 36 enhanced (36 API), 1 failed · 5.5 s waiting on the API · 37 billable tasks · 5.5 s\n')).toBe(true)
  })

  it('without a terminal, prints a few plain lines and no control codes', () => {
    const { chunks, out } = stream(false)
    const clock = { t: 0 }
    const r = new Reporter('info', out, false, () => clock.t)
    simulate(r, clock)
    r.summary()
    const text = chunks.join('')
    expect(text.includes('\r') || text.includes('\x1B')).toBe(false)
    const lines = text.trim().split('\n')
    expect(lines.length).toBeLessThanOrEqual(8)
    expect(lines[0]).toBe('[unplugin-upscale] upscale 3/40 · 3 cached · 1 in flight')
    expect(lines).toContain('[unplugin-upscale] upscale 40/40 · 3 cached · 0 in flight')
    expect(lines.at(-1)).toMatch(/^\[unplugin-upscale\] 40 images: 3 cached, 36 enhanced \(36 API\), 1 failed/)
  })

  it('prints nothing when silent, and no progress when everything is cached', () => {
    const silent = stream(false)
    const r = new Reporter('silent', silent.out, false)
    simulate(r, { t: 0 })
    r.summary()
    r.info('hello')
    expect(silent.chunks).toEqual([])

    const cachedOnly = stream(false)
    const c = new Reporter('info', cachedOnly.out, false)
    c.imageStarted('a')
    c.imageFinished('cached')
    c.summary()
    expect(cachedOnly.chunks.join('')).toMatch(/^\[unplugin-upscale\] 1 image: 1 cached, 0 enhanced, 0 failed · 0\.0 s waiting on the API · 0 billable tasks · [\d.]+ s\n$/)
  })
})

describe('a real build reports', () => {
  it('progress, a summary, and with logLevel debug each request, never the token', { timeout: 60_000 }, async () => {
    const s: ScaleServer = await startScaleServer()
    onTestFinished(() => s.close())
    const dir = await tempProject()
    await writeFile(join(dir, 'src/main.js'), `import a from './bird.png?scale=2&upscale'; import b from './woman.png?scale=2&upscale'; globalThis.result = { a, b }`)
    const options = { provider: 'api', token: s.token, apiUrl: s.url, pollInterval: 5, rateLimit: 1000, logLevel: 'debug' }
    const { output, code } = await childBuild(dir, options, 'dist', { CI: 'true' }).done
    expect(code, output).toBe(0)
    expect(output).toMatch(/\[unplugin-upscale\] upscale 0\/2 · 0 cached · 1 in flight/)
    expect(output).toMatch(/\[unplugin-upscale\] POST \/task\/pic\/scale → 200 \(\d+ bytes, \d+ ms\)/)
    expect(output).toMatch(/\[unplugin-upscale\] GET \/task\/[\da-f-]{36} → 200/)
    expect(output).toMatch(/\[unplugin-upscale\] GET \/results\/[\da-f-]{36}\.png → 200/)
    expect(output).toMatch(/\[unplugin-upscale\] 2 images: 0 cached, 2 enhanced \(2 API\), 0 failed · \d+\.\d s waiting on the API · 2 billable tasks/)
    expect(output).not.toContain(s.token)
    for (const line of output.split('\n').filter(l => l.includes('[unplugin-upscale]')))
      expect(line.includes('\r') || line.includes('\x1B')).toBe(false)

    const again = await childBuild(dir, { ...options, logLevel: 'info' }, 'dist2', { CI: 'true' }).done
    expect(again.output).toMatch(/\[unplugin-upscale\] 2 images: 2 cached, 0 enhanced, 0 failed/)
    expect(again.output).not.toContain('in flight')
  })
})
