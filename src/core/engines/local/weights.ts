/**
 * The learned filter banks as they ship: `weights/raisr-x<s>.bin` in the package, float16 weights
 * after a one-line JSON header. Read once per process from the package's own files; no network.
 */
import type { DeblockBank } from './deblock'
import type { FilterBank } from './raisr'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { deblockFilters } from './deblock'
import { filtersOf } from './raisr'

const MAGIC = 'unplugin-upscale-raisr-2\n'

export function encodeBank(bank: FilterBank): Buffer {
  const { scale, taps, strength, coherence, refine } = bank
  const header = { scale, taps, strength, coherence, ...(refine && { refineTaps: refine.taps }) }
  const count = bank.weights.length
  const halves = new Uint16Array(count + (refine?.weights.length ?? 0))
  for (let i = 0; i < halves.length; i++)
    halves[i] = toHalf(i < count ? bank.weights[i] : refine!.weights[i - count])
  return Buffer.concat([Buffer.from(MAGIC), Buffer.from(`${JSON.stringify(header)}\n`), Buffer.from(halves.buffer)])
}

export function decodeBank(data: Buffer): FilterBank {
  if (!data.subarray(0, MAGIC.length).equals(Buffer.from(MAGIC)))
    throw new Error('not a filter bank of unplugin-upscale')
  const end = data.indexOf(10, MAGIC.length)
  const { refineTaps, ...header } = JSON.parse(data.subarray(MAGIC.length, end).toString('utf8'))
  const first = filtersOf(header.scale) * header.taps * header.taps
  const second = refineTaps ? filtersOf(header.scale) * refineTaps * refineTaps : 0
  const bytes = data.subarray(end + 1)
  if (bytes.length !== (first + second) * 2)
    throw new Error(`a filter bank of ${bytes.length} bytes, ${(first + second) * 2} expected`)
  const halves = new Uint16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length))
  const weights = new Float32Array(halves.length)
  for (let i = 0; i < halves.length; i++)
    weights[i] = fromHalf(halves[i])
  const bank: FilterBank = { ...header, weights: weights.subarray(0, first) }
  return refineTaps ? { ...bank, refine: { taps: refineTaps, weights: weights.subarray(first) } } : bank
}

const DEBLOCK_MAGIC = 'unplugin-upscale-deblock-1\n'

export function encodeDeblock(bank: DeblockBank): Buffer {
  const { quality, taps, strength, coherence, weights } = bank
  const halves = Uint16Array.from(weights, toHalf)
  const header = `${JSON.stringify({ quality, taps, strength, coherence })}\n`
  return Buffer.concat([Buffer.from(DEBLOCK_MAGIC), Buffer.from(header), Buffer.from(halves.buffer)])
}

export function decodeDeblock(data: Buffer): DeblockBank {
  if (!data.subarray(0, DEBLOCK_MAGIC.length).equals(Buffer.from(DEBLOCK_MAGIC)))
    throw new Error('not a JPEG bank of unplugin-upscale')
  const end = data.indexOf(10, DEBLOCK_MAGIC.length)
  const header = JSON.parse(data.subarray(DEBLOCK_MAGIC.length, end).toString('utf8'))
  const bytes = data.subarray(end + 1)
  const count = deblockFilters * header.taps * header.taps
  if (bytes.length !== count * 2)
    throw new Error(`a JPEG bank of ${bytes.length} bytes, ${count * 2} expected`)
  const halves = new Uint16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length))
  return { ...header, weights: Float32Array.from(halves, fromHalf) }
}

/** The bands of JPEG quality with a bank of their own, inclusive; a lower quality takes the lowest band's. */
export const JPEG_BANDS: Array<[number, number]> = [[35, 62], [63, 84], [85, 96]]
export const deblockFile = ([low, high]: [number, number]): string => `deblock-q${low}-${high}.bin`
/** The band whose bank corrects a JPEG of this quality, or undefined above the highest band. */
export const jpegBand = (quality: number): [number, number] | undefined =>
  JPEG_BANDS.find(([, high]) => quality <= high)

const deblockBanks = new Map<string, DeblockBank>()

/**
 * The shipped JPEG bank for a file of this quality (see jpeg.ts), or undefined above the highest
 * band (so little is lost that the enlargement's filters take the file as it is).
 */
export function shippedDeblock(quality: number): DeblockBank | undefined {
  const band = jpegBand(quality)
  if (!band)
    return undefined
  const name = deblockFile(band)
  let bank = deblockBanks.get(name)
  if (!bank) {
    bank = decodeDeblock(readFileSync(weightsPath(name)))
    deblockBanks.set(name, bank)
  }
  return bank
}

const digests = new Map<string, string>()

/**
 * A digest of the shipped weights' bytes, for the engine's cache version: read and hashed once per
 * process, never decoded (a build of cached images enhances nothing, so it decodes no filter).
 */
export function weightsDigest(): string {
  const names = ['raisr-x2.bin', 'raisr-x4.bin', ...JPEG_BANDS.map(deblockFile)]
  return names.map((name) => {
    let digest = digests.get(name)
    if (!digest) {
      digest = createHash('sha256').update(readFileSync(weightsPath(name))).digest('hex').slice(0, 12)
      digests.set(name, digest)
    }
    return digest
  }).join(':')
}

const banks = new Map<number, FilterBank>()

/**
 * The shipped bank for a scale, from `weights/` beside the package's `dist/` (or the repository's
 * root when run from the sources), decoded on first use.
 */
export function shippedBank(scale: 2 | 4): FilterBank {
  let bank = banks.get(scale)
  if (!bank) {
    bank = decodeBank(readFileSync(weightsPath(`raisr-x${scale}.bin`)))
    banks.set(scale, bank)
  }
  return bank
}

function weightsPath(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'weights', name)
    if (existsSync(candidate))
      return candidate
    dir = dirname(dir)
  }
  throw new Error(`the local engine's weights (${name}) are missing from the package`)
}

// IEEE 754 half precision, round to nearest
const f32 = new Float32Array(1)
const u32 = new Uint32Array(f32.buffer)

function toHalf(value: number): number {
  f32[0] = value
  const x = u32[0]
  const sign = (x >>> 16) & 0x8000
  const exp = ((x >>> 23) & 0xFF) - 127 + 15
  let mant = x & 0x7FFFFF
  if (exp <= 0) {
    if (exp < -10)
      return sign
    mant |= 0x800000
    const shift = 14 - exp
    return sign | ((mant + (1 << (shift - 1))) >>> shift)
  }
  if (exp >= 31)
    return sign | 0x7C00
  const rounded = (exp << 10) + ((mant + 0x1000) >>> 13)
  return sign | Math.min(rounded, 0x7BFF)
}

function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1
  const exp = (h >>> 10) & 0x1F
  const mant = h & 0x3FF
  if (exp === 0)
    return sign * mant * 2 ** -24
  if (exp === 31)
    return mant ? Number.NaN : sign * Infinity
  return sign * (1 + mant / 1024) * 2 ** (exp - 15)
}
