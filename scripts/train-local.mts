/**
 * `npm run train:local`: learn the local engine's filters from data/t91 (never from the test sets)
 * and write them to weights/: the enlargement banks raisr-x2.bin and raisr-x4.bin, and the JPEG
 * banks deblock-q<low>-<high>.bin, one per band of JPEG quality; one process per bank, two at a
 * time so both cores work. Deterministic: the same images give the same bytes.
 *   npm run train:local [-- <dataDir>]      (one bank: -- --scale 2, or -- --jpeg 63-84)
 */
import { spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { deblockFile, encodeBank, encodeDeblock, JPEG_BANDS } from '../src/core/engines/local/weights'
import { trainDeblock } from './deblock-train'
import { train } from './raisr-train'

const args = process.argv.slice(2)
const flag = (name: string) => {
  const at = args.indexOf(name)
  return at < 0 ? undefined : args[at + 1]
}
const dir = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--')) ?? join(import.meta.dirname, '../data/t91')
const scale = flag('--scale')
const jpeg = flag('--jpeg')

if (!scale && !jpeg) {
  const jobs = [['--scale', '2'], ['--scale', '4'], ...JPEG_BANDS.map(band => ['--jpeg', band.join('-')])]
  const run = (job: string[]) => new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, import.meta.filename, dir, ...job], { stdio: 'inherit' })
    child.on('close', code => resolve(code ?? 1))
  })
  const codes: number[] = []
  const worker = async () => {
    for (let job = jobs.shift(); job; job = jobs.shift())
      codes.push(await run(job))
  }
  await Promise.all([worker(), worker()])
  process.exitCode = codes.some(code => code !== 0) ? 1 : 0
}
else {
  const files = readdirSync(dir).filter(f => f.endsWith('.png')).sort().map(f => join(dir, f))
  const started = performance.now()
  const log = (line: string) => console.error(line)
  let out: string
  if (scale) {
    out = join(import.meta.dirname, `../weights/raisr-x${scale}.bin`)
    await writeFile(out, encodeBank(await train(files, { scale: Number(scale) as 2 | 4, log })))
  }
  else {
    const band = jpeg!.split('-').map(Number) as [number, number]
    out = join(import.meta.dirname, `../weights/${deblockFile(band)}`)
    await writeFile(out, encodeDeblock(await trainDeblock(files, { quality: band, log })))
  }
  console.error(`${scale ? `x${scale}` : `JPEG q${jpeg}`}: ${files.length} images, wrote ${out} in ${((performance.now() - started) / 1000).toFixed(0)} s`)
}
