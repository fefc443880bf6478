import type { LookupAddress } from 'node:dns'
import { lookup as dnsLookup } from 'node:dns'
import { BlockList, isIP } from 'node:net'
import { redactUrl } from '../../body'

/**
 * Where the API's answers may send us for a result: over https, or to the API's own origin; never
 * to `data:`, `file:` or another scheme; never to a loopback, private, link-local, multicast or
 * cloud-metadata address unless it is the API's own host. A compromised API, or a man in the
 * middle of an http `apiUrl`, must not pull intranet content into a public site.
 */
const INTERNAL = new BlockList()
for (const [net, prefix] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4]] as const)
  INTERNAL.addSubnet(net, prefix, 'ipv4')
for (const [net, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96]] as const)
  INTERNAL.addSubnet(net, prefix, 'ipv6')

/** Whether an address is one a result may not come from (IPv4 mapped into IPv6 counts as IPv4). */
export function isInternal(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped)
    return INTERNAL.check(mapped[1], 'ipv4')
  const family = isIP(address)
  return family === 0 ? true : INTERNAL.check(address, family === 6 ? 'ipv6' : 'ipv4')
}

export class UrlRefused extends Error {}

const bare = (host: string): string => host.replace(/^\[|\]$/g, '')

/** The URL, parsed, or why it may not be fetched. `apiUrl` is the API's base URL. */
export function checkResultUrl(url: string, apiUrl: string): URL {
  const api = new URL(apiUrl)
  if (!URL.canParse(url))
    throw new UrlRefused(`the result URL ${JSON.stringify(redactUrl(url))} does not parse`)
  const target = new URL(url)
  const shown = JSON.stringify(redactUrl(url).slice(0, 200))
  if (target.origin === api.origin)
    return target
  if (target.protocol !== 'https:')
    throw new UrlRefused(`the result URL ${shown} is neither https nor on the API's own origin (${api.origin})`)
  const host = bare(target.hostname)
  if (isIP(host) && isInternal(host) && host !== bare(api.hostname))
    throw new UrlRefused(`the result URL ${shown} points at an internal address (loopback, private, link-local or metadata)`)
  return target
}

/**
 * A DNS lookup for result downloads that refuses internal addresses, so that a public name pointed
 * at 127.0.0.1 (or a metadata address) is caught on the address actually connected to.
 */
export function guardedLookup(apiHost: string, what = 'results are not fetched from there') {
  type Callback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void
  return (hostname: string, options: object, callback: Callback): void => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error)
        return callback(error, '')
      const list = addresses as LookupAddress[]
      const bad = list.find(a => isInternal(a.address))
      if (bad && bare(hostname) !== bare(apiHost)) {
        const refused = Object.assign(new Error(`${hostname} resolves to an internal address (${bad.address}); ${what}`),
          { code: 'EADDRREFUSED_BY_POLICY' })
        return callback(refused, '')
      }
      if ((options as { all?: boolean }).all)
        return callback(null, list)
      callback(null, list[0].address, list[0].family)
    })
  }
}
