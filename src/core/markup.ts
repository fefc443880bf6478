import { UPSCALE_ID } from './query'

/** A `?upscale` URL found in a stylesheet or a page: where it stands, and the URL as written. */
export interface Found { start: number, end: number, url: string }

/** Style files whose `url()`s are looked at: plain CSS, modules, and what preprocessors take. */
export const STYLE_FILE = /\.(?:css|scss|sass|less|styl|stylus|pcss|postcss|sss)(?:$|\?)/

const CSS_URL = /url\(\s*(["']?)([^"')\s]+)\1\s*\)/g

/** The `url(…)`s of a stylesheet whose URL carries `upscale`, at the position of the URL itself. */
export function cssUrls(code: string): Found[] {
  const found: Found[] = []
  for (const m of code.matchAll(CSS_URL)) {
    const url = m[2]
    if (!UPSCALE_ID.test(url))
      continue
    const start = m.index + m[0].indexOf(url, 4)
    found.push({ start, end: start + url.length, url })
  }
  return found
}

const ATTRIBUTE = /\s(src|srcset)\s*=\s*(["'])([^"']*)\2/gi

/** `src` and `srcset` URLs of a page whose URL carries `upscale` (each candidate of a srcset apart). */
export function htmlUrls(html: string): Found[] {
  const found: Found[] = []
  for (const m of html.matchAll(ATTRIBUTE)) {
    const valueStart = m.index + m[0].length - 1 - m[3].length
    if (m[1].toLowerCase() === 'src') {
      if (UPSCALE_ID.test(decode(m[3])))
        found.push({ start: valueStart, end: valueStart + m[3].length, url: m[3] })
      continue
    }
    // srcset: "a.png?upscale 1x, b.png?scale=2&upscale 2x"
    let offset = 0
    for (const candidate of m[3].split(',')) {
      const url = candidate.trim().split(/\s+/)[0]
      const at = m[3].indexOf(url, offset)
      offset = at + url.length
      if (url && UPSCALE_ID.test(decode(url)))
        found.push({ start: valueStart + at, end: valueStart + at + url.length, url })
    }
  }
  return found
}

/** An attribute value as the browser reads it, for the entities URLs carry (`&amp;`). */
const decode = (value: string): string => value.replaceAll('&amp;', '&').replaceAll('&#38;', '&')

/** `text` with each found range replaced by what `replace` gives it. */
export function replaceAll(text: string, found: Found[], replacements: string[]): string {
  let out = ''
  let last = 0
  found.forEach((f, i) => {
    out += text.slice(last, f.start) + replacements[i]
    last = f.end
  })
  return out + text.slice(last)
}
