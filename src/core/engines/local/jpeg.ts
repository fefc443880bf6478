/**
 * A JPEG's quality, read from its luma quantisation table (the DQT segment before the first scan;
 * nothing is decoded): the IJG scaling of the standard table (ITU-T T.81, Annex K) that matches it
 * best, which is what libjpeg, libjpeg-turbo, sharp and most encoders write. A file made with other
 * tables gets the IJG quality whose table is closest in size, a fair measure of how coarse it is.
 */

/** the standard luminance table, in the zig-zag order tables are stored in */
const STANDARD = [
  16, 11, 12, 14, 12, 10, 16, 14, 13, 14, 18, 17, 16, 19, 24, 40, 26, 24, 22, 22, 24, 49, 35, 37,
  29, 40, 58, 51, 61, 60, 57, 51, 56, 55, 64, 72, 92, 78, 64, 68, 87, 69, 55, 56, 80, 109, 81, 87,
  95, 98, 103, 104, 103, 62, 77, 113, 121, 112, 100, 120, 92, 101, 103, 99,
]

/** The luma table's 64 steps in stored order, or undefined where the bytes hold none before a scan. */
export function lumaTable(bytes: Uint8Array): number[] | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xFF || bytes[1] !== 0xD8)
    return undefined
  let at = 2
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xFF)
      return undefined
    const marker = bytes[at + 1]
    if (marker === 0xFF) {
      at++
      continue
    }
    // markers without a length: restart markers, TEM; a scan (SOS) or the end means no table came first
    if (marker === 0xDA || marker === 0xD9)
      return undefined
    if (marker === 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
      at += 2
      continue
    }
    const length = (bytes[at + 2] << 8) | bytes[at + 3]
    const end = at + 2 + length
    if (length < 2 || end > bytes.length)
      return undefined
    if (marker === 0xDB) {
      // one or more tables: Pq (precision) and Tq (id) in one byte, then 64 steps of 1 or 2 bytes
      let t = at + 4
      while (t < end) {
        const precision = bytes[t] >> 4
        const id = bytes[t] & 15
        const step = precision ? 2 : 1
        if (t + 1 + 64 * step > end)
          return undefined
        const at16 = (i: number): number => (bytes[t + 1 + 2 * i] << 8) | bytes[t + 2 + 2 * i]
        if (id === 0)
          return Array.from({ length: 64 }, (_, i) => (step === 2 ? at16(i) : bytes[t + 1 + i]))
        t += 1 + 64 * step
      }
    }
    at = end
  }
  return undefined
}

/** The IJG quality (1–100) whose luma table is nearest to the file's, or undefined for no JPEG table. */
export function jpegQuality(bytes: Uint8Array): number | undefined {
  const table = lumaTable(bytes)
  if (!table)
    return undefined
  let best = 0
  let error = Infinity
  for (let q = 1; q <= 100; q++) {
    const s = q < 50 ? 5000 / q : 200 - 2 * q
    let e = 0
    for (let i = 0; i < 64; i++) {
      const step = Math.min(255, Math.max(1, Math.floor((STANDARD[i] * s + 50) / 100)))
      e += Math.abs(Math.log(step / Math.max(1, table[i])))
    }
    if (e < error) {
      error = e
      best = q
    }
  }
  return best
}
