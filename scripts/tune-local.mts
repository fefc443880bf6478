/**
 * Grid-search the local engine's unsharp mask on the T91 training set (never on the test sets),
 * under the protocol of docs/quality.md. Prints the best (sigma, amount) per scale.
 *   npx tsx scripts/tune-local.ts [dataDir]
 */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { degrade, loadRgb, modcrop, psnrY, quantize } from '../bench/quality'
import { blur, lanczos3, resize } from '../src/core/engines/local/resample'

const dir = process.argv[2] ?? join(import.meta.dirname, '../data/t91')
const files = readdirSync(dir).filter(f => f.endsWith('.png')).sort()
const grid: Record<number, { sigmas: number[], amounts: number[] }> = {
  2: { sigmas: [0.5, 0.6, 0.7, 0.8, 0.9, 1.0], amounts: [0, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0] },
  4: { sigmas: [1.0, 1.2, 1.4, 1.6, 1.8], amounts: [0, 0.6, 0.8, 1.0, 1.2, 1.4] },
}

for (const s of [2, 4]) {
  const { sigmas, amounts } = grid[s]
  const score = new Map<string, number>()
  for (const f of files) {
    const hr = modcrop(await loadRgb(join(dir, f)), s)
    const up = resize(degrade(hr, s), hr.width, hr.height, lanczos3)
    for (const sigma of sigmas) {
      const blurred = blur(up, sigma)
      for (const amount of amounts) {
        const out = { ...up, data: up.data.map((v, i) => v + amount * (v - blurred.data[i])) }
        const key = `${sigma}/${amount}`
        score.set(key, (score.get(key) ?? 0) + psnrY(quantize(out), hr, s) / files.length)
      }
    }
  }
  const ranked = [...score].sort((a, b) => b[1] - a[1])
  console.log(`x${s}: none ${score.get(`${sigmas[0]}/0`)!.toFixed(3)} dB; best`, ranked.slice(0, 5).map(([k, v]) => `${k}=${v.toFixed(3)}`).join(' '))
}
