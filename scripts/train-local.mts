/**
 * `npm run train:local`: learn the local engine's filter banks from data/t91 (never from the test
 * sets) and write weights/raisr-x2.bin and weights/raisr-x4.bin, one process per scale so both
 * cores work. Deterministic: the same images give the same bytes.
 *   npm run train:local [-- <dataDir>]      (a single scale: -- --scale 2)
 */
import { spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { encodeBank } from '../src/core/engines/local/weights'
import { train } from './raisr-train'

const args = process.argv.slice(2)
const at = args.indexOf('--scale')
const dir = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--scale') ?? join(import.meta.dirname, '../data/t91')

if (at < 0) {
  const runs = [2, 4].map(scale => new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, import.meta.filename, dir, '--scale', String(scale)], { stdio: 'inherit' })
    child.on('close', code => resolve(code ?? 1))
  }))
  process.exitCode = (await Promise.all(runs)).some(code => code !== 0) ? 1 : 0
}
else {
  const scale = Number(args[at + 1]) as 2 | 4
  const files = readdirSync(dir).filter(f => f.endsWith('.png')).sort().map(f => join(dir, f))
  const started = performance.now()
  const bank = await train(files, { scale, log: line => console.error(line) })
  const out = join(import.meta.dirname, `../weights/raisr-x${scale}.bin`)
  await writeFile(out, encodeBank(bank))
  console.error(`x${scale}: ${files.length} images, wrote ${out} in ${((performance.now() - started) / 1000).toFixed(0)} s`)
}
