import type { FormData } from 'undici'
import { Agent, fetch } from 'undici'
import { readBounded, redact, redactUrl } from '../../body'
import { checkResultUrl, guardedLookup, UrlRefused } from './url-policy'

/** A failure worth another try (429, 5xx, network, a timeout); anything else is final. */
export class Retryable extends Error {
  constructor(message: string, readonly waitMs?: number) {
    super(message)
  }
}

export class ApiError extends Error {
  override name = 'ApiError'
}

export interface HttpResponse { status: number, headers: Headers, body: Buffer }

export interface RequestInit {
  method: 'GET' | 'POST'
  body?: FormData
  /** send the bearer token (never to a result URL: it lives on a storage host) */
  auth: boolean
  /** the most bytes the body may have, counted after any decompression */
  maxBytes: number
  /**
   * 'api' (submit, poll): never redirected, so the source is never sent to another origin.
   * 'result': each URL and redirect hop checked by the result URL policy (url-policy.ts).
   */
  kind?: 'api' | 'result'
}

/** How many redirects a result download follows */
const MAX_HOPS = 5

/**
 * The HTTP side of the API client: one undici Agent (opened on first use, closed when a build
 * ends), a deadline per request that holds through the whole body, a byte cap per body, a debug
 * line per request, and the token taken out of every message.
 */
export class Transport {
  private agent: Agent | undefined
  private resultAgent: Agent | undefined

  constructor(
    private readonly settings: { timeout: number, token: string, apiUrl: string, debug?: (line: string) => void },
  ) {}

  /** The text with the token (and anything the server echoed of it) replaced by `***`. */
  redact(text: string): string {
    return redact(text, this.settings.token)
  }

  /**
   * One exchange, its body read in full: the response, or a Retryable/ApiError saying what went
   * wrong. `deadline` is the task's; the request's own `timeout` runs from the first byte sent to
   * the last byte read.
   */
  async request(url: string, init: RequestInit, deadline: AbortSignal, onDeadline: () => Error): Promise<HttpResponse> {
    if (init.kind !== 'result')
      return this.exchange(url, init, deadline, onDeadline)
    let current = url
    for (let hop = 0; ; hop++) {
      try {
        checkResultUrl(current, this.settings.apiUrl)
      }
      catch (error) {
        if (error instanceof UrlRefused) {
          const via = hop ? ` (redirect ${hop} from ${JSON.stringify(redactUrl(url))})` : ''
          throw new UrlRefused(`${error.message}${via}; nothing was fetched`)
        }
        throw error
      }
      const res = await this.exchange(current, init, deadline, onDeadline)
      const location = res.headers.get('location')
      if (res.status < 300 || res.status >= 400 || !location)
        return res
      if (hop >= MAX_HOPS)
        throw new ApiError(`the result URL redirected more than ${MAX_HOPS} times`)
      current = new URL(location, current).href
    }
  }

  private async exchange(
    url: string,
    init: RequestInit,
    deadline: AbortSignal,
    onDeadline: () => Error,
  ): Promise<HttpResponse> {
    const started = Date.now()
    const what = `${init.method} ${new URL(url).pathname}`
    const { timeout } = this.settings
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(new Retryable(`${what} failed: no answer within timeout `
      + `(${timeout / 1000} s)`)), timeout)
    const onTaskDeadline = (): void => controller.abort(onDeadline())
    deadline.addEventListener('abort', onTaskDeadline, { once: true })
    if (deadline.aborted)
      onTaskDeadline()
    try {
      const res = await fetch(url, {
        method: init.method,
        body: init.body,
        headers: init.auth ? { authorization: `Bearer ${this.settings.token}` } : {},
        dispatcher: init.kind === 'result' ? this.resultDispatcher() : this.dispatcher(),
        signal: controller.signal,
        redirect: 'manual',
      })
      if (init.kind !== 'result' && res.status >= 300 && res.status < 400) {
        await res.body?.cancel().catch(() => {})
        const to = JSON.stringify(redactUrl(res.headers.get('location') ?? '?'))
        throw new ApiError(`${what} answered HTTP ${res.status}, a redirect (to ${to}); `
          + 'requests to the API are never redirected, so that the image is not sent elsewhere: check `apiUrl`')
      }
      const body = await readCapped(res, init.maxBytes, what)
      this.debug(`${what} → ${res.status} (${body.length} bytes, ${Date.now() - started} ms)`)
      return { status: res.status, headers: res.headers as unknown as Headers, body }
    }
    catch (error) {
      this.debug(`${what} → failed after ${Date.now() - started} ms`)
      if (controller.signal.aborted && controller.signal.reason instanceof Error)
        throw controller.signal.reason
      if (error instanceof ApiError || error instanceof Retryable)
        throw error
      const e = error as Error & { cause?: { code?: string, message?: string } }
      if (e.cause?.code === 'EADDRREFUSED_BY_POLICY')
        throw new UrlRefused(`the result URL ${JSON.stringify(redactUrl(url))}: ${e.cause.message}; nothing was fetched`)
      throw new Retryable(`${what} failed: ${e.cause?.code ?? e.cause?.message ?? e.message}`)
    }
    finally {
      clearTimeout(timer)
      deadline.removeEventListener('abort', onTaskDeadline)
    }
  }

  async close(): Promise<void> {
    const agents = [this.agent, this.resultAgent]
    this.agent = undefined
    this.resultAgent = undefined
    await Promise.all(agents.map(a => a?.close()))
  }

  private debug(line: string): void {
    this.settings.debug?.(this.redact(line))
  }

  /** result downloads: the address each connection goes to is checked too (DNS may point anywhere) */
  private resultDispatcher(): Agent {
    const { timeout } = this.settings
    this.resultAgent ??= new Agent({
      connect: { timeout, lookup: guardedLookup(new URL(this.settings.apiUrl).hostname) as never },
      headersTimeout: timeout,
      bodyTimeout: timeout,
      keepAliveTimeout: 4_000,
    })
    return this.resultAgent
  }

  private dispatcher(): Agent {
    const { timeout } = this.settings
    this.agent ??= new Agent({
      connect: { timeout },
      headersTimeout: timeout,
      bodyTimeout: timeout,
      keepAliveTimeout: 4_000,
    })
    return this.agent
  }
}

/** The body, refused as soon as it is announced or grows larger than `maxBytes`. */
async function readCapped(res: Awaited<ReturnType<typeof fetch>>, maxBytes: number, what: string): Promise<Buffer> {
  const tooLarge = (): ApiError => new ApiError(`${what} answered with more than ${maxBytes} bytes (option \`maxResultBytes\` for `
    + `results); nothing more was read`)
  const announced = Number(res.headers.get('content-length'))
  if (announced > maxBytes) {
    await res.body?.cancel().catch(() => {})
    throw tooLarge()
  }
  return readBounded(res.body, maxBytes, tooLarge)
}
