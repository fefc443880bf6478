/**
 * `npm run bench`: one markdown table, every figure a ratio of two measurements from this run.
 * These machines are noisy: compare ratios, not seconds, and re-run when a figure looks odd.
 */
import { execFile, fork } from 'node:child_process'
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { promisify } from 'node:util'
import sharp from 'sharp'
import { build } from 'vite'
import { imagetools } from 'vite-imagetools'
import { createLocalEngine, enhancePixels } from '../src/core/engines/local'
import Upscale from '../src/vite'
import { nginxBinary, startNginx } from '../test/helpers/nginx'
import { dataDir, imagesOf, requireImages } from './data'
import { jpegRows } from './jpeg-quality'
import { qualityRows } from './local-quality'

/** `npm run bench -- 1 3` runs sections 1 and 3 only; `--data <dir>` says where the images are */
const only = new Set(process.argv.slice(2).filter((a, i, all) => a !== '--data' && all[i - 1] !== '--data'))
const want = (section: string) => only.size === 0 || only.has(section)
const exec = promisify(execFile)
/** issue targets for the learned engine (Set5, Set14; BSD100 relative to bicubic) */
const TARGETS: Record<string, string> = { 'set5 x2': '35.6 dB', 'set5 x4': '29.5 dB', 'set14 x2': '31.7 dB', 'set14 x4': '26.8 dB', 'bsd100 x2': 'bicubic + 1.3 dB', 'bsd100 x4': 'bicubic + 0.6 dB' }
/** issue 23's targets for JPEG quality 75, in dB over bicubic of the decoded JPEG (x1: over the decoded JPEG) */
const JPEG_TARGETS: Record<string, number> = { 'set14 x1': 0.25, 'set14 x2': 0.7, 'set14 x4': 0.35, 'bsd100 x1': 0.25, 'bsd100 x2': 0.6, 'bsd100 x4': 0.3 }
const rows: string[][] = []
const row = (...cells: Array<string | number>) => {
  rows.push(cells.map(String))
  console.error(`  ${cells.join(' | ')}`)
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const ms = (x: number) => `${Math.round(x)} ms`
const ratio = (x: number) => x.toFixed(2)

async function time(task: () => Promise<unknown>): Promise<number> {
  const start = performance.now()
  await task()
  return performance.now() - start
}

async function viteBuild(dir: string, entry: string, plugins: any[], outDir: string): Promise<void> {
  await build({ root: dir, configFile: false, logLevel: 'silent', plugins, build: { outDir: join(dir, outDir), emptyOutDir: true, rollupOptions: { input: join(dir, entry) } } })
}

/** The loopback API server in a child process (bench/server-child.mts): its URL, token and counters. */
async function serverProcess(latency: number) {
  const child = fork(join(import.meta.dirname, 'server-child.mts'), [], { execArgv: ['--import', 'tsx'], env: { ...process.env, LATENCY: String(latency) } })
  function next<T>(): Promise<T> {
    return new Promise<T>(resolve => child.once('message', message => resolve(message as T)))
  }
  const { url, token } = await next<{ url: string, token: string }>()
  return {
    url,
    token,
    stats: () => {
      const answer = next<{ submits: number, maxParallel: number }>()
      child.send('stats')
      return answer
    },
    close: () => child.send('close'),
  }
}

async function entry(dir: string, name: string, specifiers: string[]): Promise<string> {
  const lines = specifiers.map((s, i) => `import i${i} from ${JSON.stringify(s)}`)
  await writeFile(join(dir, name), `${lines.join('\n')}\nexport default [${specifiers.map((_, i) => `i${i}`).join(',')}]\n`)
  return name
}

const work = await mkdtemp(join(tmpdir(), 'upscale-bench-'))
try {
  console.error(`bench in ${work} (${availableParallelism()} cores)`)
  // photos for the speed sections: BSD100 when it is in the data folder, else T91 (in the repository)
  const bsd = imagesOf('bsd100') ?? []
  const photos = bsd.length >= 50 ? bsd : requireImages('t91')
  if (photos !== bsd)
    console.error(`BSD100 is not in ${join(dataDir(), 'bsd100')} (see data/README.md): the speed sections use T91, and the quality table has no BSD100 rows`)
  await mkdir(join(work, 'img'))
  for (const [i, f] of photos.slice(0, 50).entries())
    await cp(f, join(work, 'img', `${i}.png`))
  const fifty = Array.from({ length: 50 }, (_, i) => i)

  // 1. warm cache vs the same enhanced files as plain assets
  const upscale = () => [Upscale({ provider: 'local', cacheDir: join(work, '.cache'), logLevel: 'silent' })]
  const upEntry = await entry(work, 'warm.js', fifty.map(i => `./img/${i}.png?upscale`))
  const cold = want('1') || want('5') ? await time(() => viteBuild(work, upEntry, upscale(), 'dist-warm')) : 0
  if (want('1')) {
    await mkdir(join(work, 'plain'))
    const built = await readdir(join(work, 'dist-warm/assets'))
    for (const i of fifty)
      await cp(join(work, 'dist-warm/assets', built.find(f => f.startsWith(`${i}@4x-`))!), join(work, 'plain', `${i}.png`))
    const plainEntry = await entry(work, 'plain.js', fifty.map(i => `./plain/${i}.png`))
    const warm: number[] = []
    const plain: number[] = []
    for (let round = 0; round < 5; round++) {
      plain.push(await time(() => viteBuild(work, plainEntry, [], 'dist-plain')))
      warm.push(await time(() => viteBuild(work, upEntry, upscale(), 'dist-warm')))
    }
    row('1', 'warm build, 50 cached `?upscale` images (median of 5)', ms(median(warm)), `the same files as plain assets: ${ms(median(plain))}`, ratio(median(warm) / median(plain)), '≤ 1.10')

    // what each cached import costs beyond a plain asset, with 50 and with 500 small images in the
    // cache: a lookup is one key's files, so the cost per image must not grow with the cache
    const perImage: Record<number, number> = {}
    for (const count of [50, 500]) {
      const dir = join(work, `many${count}`)
      await mkdir(join(dir, 'src'), { recursive: true })
      for (let i = 0; i < count; i++) {
        const background = { r: i % 256, g: (i * 7) % 256, b: Math.floor(i / 256) * 60 }
        await sharp({ create: { width: 40, height: 30, channels: 3, background } }).png().toFile(join(dir, 'src', `${i}.png`))
      }
      const ids = Array.from({ length: count }, (_, i) => i)
      const manyEntry = await entry(dir, 'warm.js', ids.map(i => `./src/${i}.png?upscale`))
      const manyUpscale = () => [Upscale({ provider: 'local', cacheDir: join(dir, '.cache'), logLevel: 'silent' })]
      await viteBuild(dir, manyEntry, manyUpscale(), 'dist-warm')
      await mkdir(join(dir, 'plain'))
      const built = await readdir(join(dir, 'dist-warm/assets'))
      for (const i of ids)
        await cp(join(dir, 'dist-warm/assets', built.find(f => f.startsWith(`${i}@4x-`))!), join(dir, 'plain', `${i}.png`))
      const plainMany = await entry(dir, 'plain.js', ids.map(i => `./plain/${i}.png`))
      const [w, p]: number[][] = [[], []]
      for (let round = 0; round < 5; round++) {
        p.push(await time(() => viteBuild(dir, plainMany, [], 'dist-plain')))
        w.push(await time(() => viteBuild(dir, manyEntry, manyUpscale(), 'dist-warm')))
      }
      perImage[count] = (median(w) - median(p)) / count
      const extra = `${perImage[count].toFixed(2)} ms per image over a plain asset`
      row('1', `warm build, ${count} cached small images (40×30 → 160×120; median of 5): ${extra}`, ms(median(w)), `the same files as plain assets: ${ms(median(p))}`, ratio(median(w) / median(p)), count === 500 ? `per image ${(perImage[500] / perImage[50]).toFixed(2)}× the 50's` : 'for the record')
    }
  }

  // 2. cold builds against the loopback server, 300 ms per task
  if (want('2')) {
    await mkdir(join(work, 'small'))
    for (let i = 0; i < 32; i++)
      await sharp({ create: { width: 96, height: 64, channels: 3, background: { r: i * 7, g: 100, b: 200 - i * 5 } } }).png().toFile(join(work, 'small', `${i}.png`))
    const apiEntry = await entry(work, 'api.js', Array.from({ length: 32 }, (_, i) => `./small/${i}.png?scale=2&upscale`))
    for (const concurrency of [4, 8]) {
      const server = await serverProcess(300)
      const options = { provider: 'api' as const, token: server.token, apiUrl: server.url, sync: true, concurrency, rateLimit: Infinity, cacheDir: join(work, `.cache-api${concurrency}`), logLevel: 'silent' as const }
      const wall = await time(() => viteBuild(work, apiEntry, [Upscale(options)], `dist-api${concurrency}`))
      const ideal = Math.ceil(32 / concurrency) * 300
      const stats = await server.stats()
      row('2', `cold build, 32 images on the API (its own process), 300 ms a task, concurrency ${concurrency} (${stats.submits} tasks, at most ${stats.maxParallel} at once)`, ms(wall), `ideal ⌈32/${concurrency}⌉ × 300 ms = ${ms(ideal)}`, ratio(wall / ideal), '≤ 1.25')
      server.close()
    }
  }

  // 3. peak memory: 100 vs 10 photos of 2000×1500 on the local engine, each a fresh process
  if (want('3')) {
    await mkdir(join(work, 'big'))
    for (let i = 0; i < 100; i++)
      await sharp(photos[i % photos.length]).resize(2000, 1500, { fit: 'fill' }).jpeg({ quality: 85 }).toFile(join(work, 'big', `${i}.jpg`))
    const rss: Record<number, number> = {}
    const durations: Record<number, number> = {}
    for (const n of [10, 100]) {
      durations[n] = await time(async () => {
        const { stdout } = await exec(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'memory-child.mts'), work, String(n)], { maxBuffer: 1 << 24 })
        rss[n] = JSON.parse(stdout.trim().split('\n').at(-1)!).maxRssKb / 1024
      })
    }
    row('3', `peak RSS, cold build of 100 photos 2000×1500, local engine (${ms(durations[100])})`, `${Math.round(rss[100])} MB`, `10 photos: ${Math.round(rss[10])} MB (${ms(durations[10])})`, ratio(rss[100] / rss[10]), '≤ 1.5')
  }

  // 4. local engine: quality under the protocol, and throughput against sharp's bare resize
  if (want('4')) {
    for (const q of await qualityRows()) {
      const name = String(q.set).replace('set', 'Set')
      const [local, bicubicDb, old] = [q.local, q.bicubic, q.old] as number[]
      const target = TARGETS[String(q.set)]
      row('4', `PSNR-Y, ${name}: learned filters ${local.toFixed(2)} dB (old engine ${old.toFixed(2)}, published bicubic ${q.published})`, `+${(local - bicubicDb).toFixed(2)} dB`, `centre-aligned bicubic ${bicubicDb.toFixed(2)} dB`, ratio(local / bicubicDb), target ? `≥ ${target}` : '> 1')
    }
    const engine = createLocalEngine()
    const oldEngine = createLocalEngine({ method: 'lanczos' })
    const set14 = requireImages('set14')
    let outputMp = 0
    let ours = 0
    let old = 0
    let bare = 0
    for (const f of set14) {
      const source = await sharp(f).toColourspace('srgb').png().toBuffer()
      const meta = await sharp(source).metadata()
      outputMp += (meta.width! * 2 * meta.height! * 2) / 1e6
      const request = { file: basename(f), source, info: { format: 'png', width: meta.width!, height: meta.height! }, scale: 2 as const, auto: false, type: 'clean' as const }
      ours += await time(() => engine.enhance(request))
      old += await time(() => oldEngine.enhance(request))
      bare += await time(() => sharp(source).resize(meta.width! * 2, meta.height! * 2, { kernel: 'lanczos3' }).png().toBuffer())
    }
    const mps = (ms: number) => `${(outputMp / ms * 1000).toFixed(1)} MP/s`
    row('4', 'throughput, Set14 x2, decode + enlarge + encode PNG: learned filters vs the old engine', mps(ours), `Lanczos-3 + sharpening: ${mps(old)}`, ratio(old / ours), 'throughput ratio, ≥ 1')
    row('4', 'throughput, the same: learned filters vs sharp\'s bare resize', mps(ours), `sharp resize (lanczos3): ${mps(bare)}`, ratio(bare / ours), 'throughput ratio, for the record (was 0.25)')
    // JPEG sources (docs/quality.md, the JPEG protocol): gain over bicubic of the decoded JPEG
    for (const r of await jpegRows()) {
      const target = JPEG_TARGETS[`${r.set} x${r.scale}`]
      const name = `${r.set.replace('set', 'Set').replace('bsd', 'BSD')} JPEG q${r.quality} x${r.scale}`
      const d = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(2)} dB`
      row('4', `PSNR-Y, ${name}: with the JPEG correction (without: ${d(r.before - r.baseline)})`, d(r.ours - r.baseline), `${r.scale === 1 ? 'the decoded JPEG' : 'bicubic of the decoded JPEG'} ${r.baseline.toFixed(2)} dB`, ratio(r.ours / r.baseline), r.quality === 75 && target ? `≥ +${target} dB` : 'for the record')
    }
    // the correction's cost: the engine's pixel work on the decoded JPEGs, with it and without
    let jpegMp = 0
    let corrected = 0
    let uncorrected = 0
    for (const f of set14) {
      const { data, info } = await sharp(await sharp(f).toColourspace('srgb').jpeg({ quality: 75 }).toBuffer()).raw().toBuffer({ resolveWithObject: true })
      jpegMp += (info.width * 2 * info.height * 2) / 1e6
      corrected += await time(async () => enhancePixels(data, info.width, info.height, info.channels, 2, 'clean', 'learned', 75))
      uncorrected += await time(async () => enhancePixels(data, info.width, info.height, info.channels, 2, 'clean', 'learned'))
    }
    const jmps = (ms: number) => `${(jpegMp / ms * 1000).toFixed(1)} MP/s`
    row('4', 'throughput, Set14 JPEG q75 x2, the pixel work on one thread: with the JPEG correction vs without', jmps(corrected), `without: ${jmps(uncorrected)}`, ratio(uncorrected / corrected), 'throughput ratio, for the record')
  }

  // 5. against vite-imagetools enlarging the same 50 photos with ?w= (4×), cold and warm
  if (want('5')) {
    const sizes = await Promise.all(fifty.map(async i => (await sharp(join(work, 'img', `${i}.png`)).metadata()).width! * 4))
    const itEntry = await entry(work, 'imagetools.js', fifty.map(i => `./img/${i}.png?w=${sizes[i]}&allowUpscale=true`))
    const itPlugins = () => [imagetools({ cache: { enabled: true, dir: join(work, '.cache-imagetools') } })]
    await rm(join(work, '.cache'), { recursive: true })
    const oursCold = await time(() => viteBuild(work, upEntry, upscale(), 'dist-ours'))
    const itCold = await time(() => viteBuild(work, itEntry, itPlugins(), 'dist-it'))
    const oursWarm: number[] = []
    const itWarm: number[] = []
    for (let round = 0; round < 3; round++) {
      oursWarm.push(await time(() => viteBuild(work, upEntry, upscale(), 'dist-ours')))
      itWarm.push(await time(() => viteBuild(work, itEntry, itPlugins(), 'dist-it')))
    }
    const itOut = await readdir(join(work, 'dist-it/assets'))
    const itMeta = await sharp(join(work, 'dist-it/assets', itOut.find(f => /^0-.*\.png$/.test(f))!)).metadata()
    row('5', `cold build, 50 photos enlarged 4× (first cold build of this run: ${ms(cold)})`, ms(oursCold), `vite-imagetools ?w=…&allowUpscale=true (sharp resize; photo 0 came out ${itMeta.width}×${itMeta.height}, ours ${sizes[0]} wide): ${ms(itCold)}`, ratio(oursCold / itCold), 'for the record')
    row('5', 'warm build, the same (median of 3)', ms(median(oursWarm)), `vite-imagetools: ${ms(median(itWarm))}`, ratio(median(oursWarm) / median(itWarm)), 'for the record')
  }

  // 6. responsive variants: 20 images × 3 widths × 2 formats, against the enhancements alone
  if (want('6')) {
    const twenty = fifty.slice(0, 20)
    const local = (cache: string) => [Upscale({ provider: 'local', cacheDir: join(work, cache), logLevel: 'silent' })]
    const plainEntry = await entry(work, 'v-plain.js', twenty.map(i => `./img/${i}.png?scale=2&upscale`))
    const variantsEntry = await entry(work, 'v-variants.js', twenty.map(i => `./img/${i}.png?scale=2&w=240;480;960&format=webp;avif&upscale=variants`))
    const enhance = await time(() => viteBuild(work, plainEntry, local('.cache-v1'), 'dist-v1'))
    const variants = await time(() => viteBuild(work, variantsEntry, local('.cache-v2'), 'dist-v2'))
    row('6', 'cold build, 20 images × 3 widths × 2 formats (one enhancement each, local engine)', ms(variants), `the 20 enhancements alone: ${ms(enhance)}`, ratio(variants / enhance), 'for the record')
    // the same conversions as a srcset string, which carries no placeholder: what the placeholders add
    const srcsets = twenty.flatMap(i => ['webp', 'avif'].map(f => `./img/${i}.png?scale=2&w=240;480;960&format=${f}&upscale=srcset`))
    const srcsetEntry = await entry(work, 'v-srcset.js', srcsets)
    const srcset = await time(() => viteBuild(work, srcsetEntry, local('.cache-v3'), 'dist-v3'))
    row('6', 'the same, cold, as two `upscale=srcset` imports an image (WebP, AVIF: the same 120 conversions, no placeholder)', ms(srcset), `the 20 enhancements alone: ${ms(enhance)}`, ratio(srcset / enhance), 'for the record')
    const warmPlain: number[] = []
    const warmVariants: number[] = []
    for (let round = 0; round < 3; round++) {
      warmPlain.push(await time(() => viteBuild(work, plainEntry, local('.cache-v1'), 'dist-v1')))
      warmVariants.push(await time(() => viteBuild(work, variantsEntry, local('.cache-v2'), 'dist-v2')))
    }
    row('6', 'warm build, the same 120 variants (median of 3)', ms(median(warmVariants)), `warm build of the 20 plain imports: ${ms(median(warmPlain))}`, ratio(median(warmVariants) / median(warmPlain)), 'for the record')
  }

  // 7. a warm build from the remote tier only (an empty disk cache), against a warm local build
  if (want('7')) {
    if (!nginxBinary()) {
      console.error('section 7 needs nginx (Debian: apt-get install nginx-light, or NGINX_BIN): skipped')
    }
    else {
      const nginx = await startNginx(join(work, 'nginx'), 18000 + Math.floor(Math.random() * 2000))
      try {
        const remoteCache = { url: nginx.url, protocol: 'http' as const }
        const fill = [Upscale({ provider: 'local', cacheDir: join(work, '.cache-r0'), logLevel: 'silent', remoteCache })]
        await viteBuild(work, upEntry, fill, 'dist-r0')
        const fromRemote: number[] = []
        const local: number[] = []
        for (let round = 0; round < 3; round++) {
          await rm(join(work, `.cache-r${round + 1}`), { recursive: true, force: true })
          fromRemote.push(await time(() => viteBuild(work, upEntry, [Upscale({ provider: 'local', cacheDir: join(work, `.cache-r${round + 1}`), logLevel: 'silent', remoteCache })], 'dist-r')))
          local.push(await time(() => viteBuild(work, upEntry, [Upscale({ provider: 'local', cacheDir: join(work, '.cache-r0'), logLevel: 'silent' })], 'dist-l')))
        }
        row('7', 'warm build of 50 images from the remote tier only (nginx WebDAV, empty disk cache; median of 3)', ms(median(fromRemote)), `warm build from the disk cache: ${ms(median(local))}`, ratio(median(fromRemote) / median(local)), 'for the record')
      }
      finally {
        nginx.stop()
      }
    }
  }

  // 8. what the page-side features cost per image: placeholders, presets, html(), remote sources
  if (want('8')) {
    if (!cold)
      await viteBuild(work, upEntry, upscale(), 'dist-warm')
    const metaEntry = await entry(work, 'meta.js', fifty.map(i => `./img/${i}.png?upscale=metadata`))
    const withCache = (cache: string, more: object = {}) =>
      [Upscale({ provider: 'local', cacheDir: join(work, cache), logLevel: 'silent', ...more })]
    // the enhancements cached, their placeholders not yet: a copy of section 1's cache
    await cp(join(work, '.cache'), join(work, '.cache-p'), { recursive: true })
    const placeholdersCold = await time(() => viteBuild(work, metaEntry, withCache('.cache-p'), 'dist-p1'))
    const urls: number[] = []
    const metas: number[] = []
    for (let round = 0; round < 3; round++) {
      urls.push(await time(() => viteBuild(work, upEntry, withCache('.cache-p'), 'dist-p0')))
      metas.push(await time(() => viteBuild(work, metaEntry, withCache('.cache-p'), 'dist-p1')))
    }
    const perImage = (a: number, b: number) => `${((a - b) / 50).toFixed(1)} ms an image`
    row('8', 'placeholders made: cold build of 50 `?upscale=metadata` imports, their enhancements cached', ms(placeholdersCold), `the 50 URL imports, warm (median of 3): ${ms(median(urls))} (${perImage(placeholdersCold, median(urls))})`, ratio(placeholdersCold / median(urls)), 'for the record')
    row('8', 'placeholders cached: warm build of the same (median of 3)', ms(median(metas)), `the 50 URL imports, warm: ${ms(median(urls))} (${perImage(median(metas), median(urls))})`, ratio(median(metas) / median(urls)), 'for the record')
    // the placeholders' size, read from the cache: the tiny images are entries of their own
    const records = (await readdir(join(work, '.cache-p'), { recursive: true })).filter(f => f.endsWith('.json') && f.includes('/'))
    const tiny: number[] = []
    for (const f of records) {
      const record = JSON.parse(await readFile(join(work, '.cache-p', f), 'utf8'))
      if (record.params?.placeholder)
        tiny.push(Math.ceil(record.bytes / 3) * 4 + 'data:image/webp;base64,'.length)
    }
    row('8', `placeholder size: blurDataURL of ${tiny.length} images`, `${Math.round(tiny.reduce((a, b) => a + b, 0) / tiny.length)} bytes on average`, `largest ${Math.max(...tiny)} bytes`, '—', 'a few hundred bytes')

    // presets: ten globs, the last one matching, against the same parameters in the query
    const presets = Object.fromEntries([...Array.from({ length: 9 }, (_, i) => [`other${i}/**`, { scale: 2 }]), ['img/**', { scale: 4 }]])
    const presetEntry = await entry(work, 'preset.js', fifty.map(i => `./img/${i}.png?upscale`))
    const queryEntry = await entry(work, 'query.js', fifty.map(i => `./img/${i}.png?scale=4&upscale`))
    const withPreset: number[] = []
    const withQuery: number[] = []
    await viteBuild(work, queryEntry, withCache('.cache'), 'dist-q')
    for (let round = 0; round < 3; round++) {
      withQuery.push(await time(() => viteBuild(work, queryEntry, withCache('.cache'), 'dist-q')))
      withPreset.push(await time(() => viteBuild(work, presetEntry, withCache('.cache', { presets }), 'dist-q')))
    }
    row('8', 'presets: warm build of 50 imports given `scale` by the 10th of ten globs (median of 3)', ms(median(withPreset)), `the same \`scale=4\` in each query: ${ms(median(withQuery))}`, ratio(median(withPreset) / median(withQuery)), 'for the record')

    // html() of a result with two formats × three widths
    const { html } = await import('../src/api')
    const variant = (format: 'webp' | 'avif', width: number) => ({ src: `/img/a-${width}.${format}`, file: '', width, height: width, format, originalWidth: 100, originalHeight: 100, scale: 4 as const, type: 'clean' as const, cached: true, key: '', source: 'a.png', blurDataURL: 'data:image/webp;base64,AAAA', blurWidth: 16, blurHeight: 16, dominantColor: '#000000' })
    const list = [240, 480, 960].flatMap(w => [variant('avif', w), variant('webp', w)])
    const result = { ...list.at(-1)!, variants: list }
    const calls = 20_000
    const markup = await time(async () => {
      for (let i = 0; i < calls; i++)
        html(result, { alt: 'a photo', sizes: '100vw' })
    })
    row('8', `html(): ${calls} calls on a result of 2 formats × 3 widths`, `${(markup * 1000 / calls).toFixed(1)} µs a call`, '—', '—', 'for the record')

    // remote sources: 50 URLs from a loopback server, downloaded cold, then revalidated (304)
    const { createServer } = await import('node:http')
    const { createHash } = await import('node:crypto')
    const { readFile: read } = await import('node:fs/promises')
    const server = createServer(async (req, res) => {
      const data = await read(join(work, 'img', basename(req.url!)))
      const etag = `"${createHash('sha256').update(data).digest('hex').slice(0, 16)}"`
      if (req.headers['if-none-match'] === etag)
        return res.writeHead(304, { etag }).end()
      res.writeHead(200, { 'content-type': 'image/png', etag }).end(data)
    })
    await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
    const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`
    try {
      const { upscale } = await import('../src/api')
      const options = { provider: 'local' as const, cacheDir: join(work, '.cache'), logLevel: 'silent' as const, remotePatterns: [{ hostname: '127.0.0.1' }] }
      const all = (source: (i: number) => string) => Promise.all(fifty.map(i => upscale(source(i), options)))
      const downloaded = await time(() => all(i => `${origin}/${i}.png`))
      const revalidated: number[] = []
      const files: number[] = []
      for (let round = 0; round < 3; round++) {
        revalidated.push(await time(() => all(i => `${origin}/${i}.png`)))
        files.push(await time(() => all(i => join(work, 'img', `${i}.png`))))
      }
      row('8', 'remote sources: 50 `upscale(url)` calls, enhancements cached, each URL downloaded', ms(downloaded), `the 50 local files: ${ms(median(files))} (${perImage(downloaded, median(files))})`, ratio(downloaded / median(files)), 'for the record')
      row('8', 'remote sources: the same, revalidated (304, no download; median of 3)', ms(median(revalidated)), `the 50 local files: ${ms(median(files))} (${perImage(median(revalidated), median(files))})`, ratio(median(revalidated) / median(files)), 'for the record')
    }
    finally {
      server.close()
    }
  }

  console.log('| # | measurement | this run | baseline (same run) | ratio | target |')
  console.log('|---|---|---|---|---|---|')
  for (const r of rows)
    console.log(`| ${r.join(' | ')} |`)
}
finally {
  await rm(work, { recursive: true, force: true })
}
