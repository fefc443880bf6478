import type { FormData } from 'undici'
import { Agent, fetch } from 'undici'
import { readBounded, redact } from '../../body'

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
}

/**
 * The HTTP side of the API client: one undici Agent (opened on first use, closed when a build
 * ends), a deadline per request that holds through the whole body, a byte cap per body, a debug
 * line per request, and the token taken out of every message.
 */
export class Transport {
  private agent: Agent | undefined

  constructor(private readonly settings: { timeout: number, token: string, debug?: (line: string) => void }) {}

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
    const started = Date.now()
    const what = `${init.method} ${new URL(url).pathname}`
    const { timeout } = this.settings
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(new Retryable(`${what} failed: no answer within timeout (${timeout / 1000} s)`)), timeout)
    const onTaskDeadline = (): void => controller.abort(onDeadline())
    deadline.addEventListener('abort', onTaskDeadline, { once: true })
    if (deadline.aborted)
      onTaskDeadline()
    try {
      const res = await fetch(url, {
        method: init.method,
        body: init.body,
        headers: init.auth ? { authorization: `Bearer ${this.settings.token}` } : {},
        dispatcher: this.dispatcher(),
        signal: controller.signal,
      })
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
      throw new Retryable(`${what} failed: ${e.cause?.code ?? e.cause?.message ?? e.message}`)
    }
    finally {
      clearTimeout(timer)
      deadline.removeEventListener('abort', onTaskDeadline)
    }
  }

  async close(): Promise<void> {
    const agent = this.agent
    this.agent = undefined
    await agent?.close()
  }

  private debug(line: string): void {
    this.settings.debug?.(this.redact(line))
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
  const tooLarge = (): ApiError => new ApiError(`${what} answered with more than ${maxBytes} bytes (option \`maxResultBytes\` for results); nothing more was read`)
  const announced = Number(res.headers.get('content-length'))
  if (announced > maxBytes) {
    await res.body?.cancel().catch(() => {})
    throw tooLarge()
  }
  return readBounded(res.body, maxBytes, tooLarge)
}
