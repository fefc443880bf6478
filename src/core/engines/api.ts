import type { Engine, EnhanceRequest, EnhanceResult, ResolvedOptions } from '../../types'
import type { SharedLimits } from '../limits'
import { basename } from 'node:path'
import sharp from 'sharp'
import { Agent, fetch, FormData } from 'undici'
import { backoff, parseRetryAfter, sharedLimits } from '../limits'

/** The resolved options the API client reads, with the token known to be set. */
export type ApiSettings = Pick<ResolvedOptions, 'apiUrl' | 'sync' | 'concurrency' | 'rateLimit' | 'timeout' | 'taskTimeout' | 'retries'
  | 'retryDelay' | 'pollInterval' | 'maxUploadBytes' | 'maxUploadSide' | 'publicUrl' | 'callbackUrl'> & {
  token: string
  /** one line per request: method, path, status, time (never a header) */
  debug?: (line: string) => void
}

/** Input formats the service takes as they are; others are converted to PNG first (lossless). */
const SERVICE_FORMATS: Record<string, string> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', tiff: 'image/tiff' }
const RETRYABLE_STATES = new Set([-2, -8])

/** A failure worth another try (429, 5xx, network, states -2/-8); anything else is final. */
class Retryable extends Error {
  constructor(message: string, readonly waitMs?: number) {
    super(message)
  }
}
export class ApiError extends Error {
  override name = 'ApiError'
}

interface TaskData {
  task_id?: string
  state?: number
  state_detail?: string
  image?: string
  image_width?: number
  image_height?: number
  type?: string
  completed_at?: number
  time_elapsed?: number
}

/** The service's message from either error body shape, or the start of the text. */
export function errorMessage(text: string): string {
  try {
    const body = JSON.parse(text)
    const message = body?.error?.message ?? body?.message
    if (typeof message === 'string' && message)
      return message
  }
  catch {}
  if (/^\s*</.test(text))
    return 'an HTML page instead of JSON (a proxy or gateway error?)'
  return text.trim().slice(0, 200) || 'an empty body'
}

export function createApiEngine(settings: ApiSettings): Engine {
  const limits: SharedLimits = sharedLimits(settings.apiUrl, settings.token, settings.concurrency, settings.rateLimit)
  let agent: Agent | undefined
  const dispatcher = (): Agent => agent ??= new Agent({
    connect: { timeout: settings.timeout },
    headersTimeout: settings.timeout,
    bodyTimeout: settings.timeout,
    keepAliveTimeout: 4_000,
  })
  const redact = (text: string): string => (settings.token ? text.split(settings.token).join('***') : text)
  const tooLong = (): ApiError => new ApiError(`the task took longer than taskTimeout (${settings.taskTimeout / 1000} s)`)
  const delay = (ms: number, signal: AbortSignal): Promise<void> => {
    if (signal.aborted)
      return Promise.reject(tooLong())
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        clearTimeout(timer)
        reject(tooLong())
      }
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort)
        resolve()
      }, ms)
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** One HTTP exchange: the response body, or a Retryable/ApiError that says what went wrong. */
  async function call(url: string, init: { method: 'GET' | 'POST', body?: FormData, auth: boolean }, deadline: AbortSignal): Promise<{ status: number, headers: Headers, body: Buffer }> {
    const started = Date.now()
    const what = `${init.method} ${new URL(url).pathname}`
    try {
      const res = await fetch(url, {
        method: init.method,
        body: init.body,
        headers: init.auth ? { authorization: `Bearer ${settings.token}` } : {},
        dispatcher: dispatcher(),
        signal: AbortSignal.any([deadline, AbortSignal.timeout(settings.timeout)]),
      })
      const body = Buffer.from(await res.arrayBuffer())
      settings.debug?.(`${what} → ${res.status} (${body.length} bytes, ${Date.now() - started} ms)`)
      return { status: res.status, headers: res.headers as unknown as Headers, body }
    }
    catch (error) {
      settings.debug?.(`${what} → failed after ${Date.now() - started} ms`)
      if (deadline.aborted)
        throw tooLong()
      const e = error as Error & { cause?: { code?: string, message?: string } }
      const cause = e.name === 'TimeoutError' ? `no answer within timeout (${settings.timeout / 1000} s)` : (e.cause?.code ?? e.cause?.message ?? e.message)
      throw new Retryable(`${what} failed: ${cause}`)
    }
  }

  /** Read a task object, turning HTTP and body errors into Retryable/ApiError. */
  function taskFrom(res: { status: number, headers: Headers, body: Buffer }, what: string): TaskData {
    const text = res.body.toString('utf8')
    const reason = `${what} answered HTTP ${res.status}: ${errorMessage(text)}`
    if (res.status === 401) {
      limits.state.tokenRejected = true
      throw new ApiError(`the API rejected the token (HTTP 401: ${errorMessage(text)}); check the \`token\` option or UPSCALE_API_TOKEN`)
    }
    if (res.status === 429 || res.status >= 500)
      throw new Retryable(reason, parseRetryAfter(res.headers.get('retry-after')))
    if (res.status !== 200)
      throw new ApiError(reason)
    let body: { status?: number, message?: string, data?: TaskData }
    try {
      body = JSON.parse(text)
    }
    catch {
      throw new Retryable(`${what} answered HTTP 200 with a body that is not JSON (${errorMessage(text).slice(0, 80)})`)
    }
    if (body.status !== undefined && body.status !== 200)
      throw (body.status === 429 || body.status >= 500 ? new Retryable(reason) : new ApiError(`${what} answered status ${body.status}: ${errorMessage(text)}`))
    if (!body.data || typeof body.data.state !== 'number')
      throw new Retryable(`${what} answered without a task state`)
    return body.data
  }

  async function prepare(req: EnhanceRequest): Promise<{ data: Buffer, type: string, name: string } | { url: string }> {
    const url = settings.publicUrl?.(req.file)
    if (url)
      return { url }
    const { width, height, format } = req.info
    if (Math.max(width, height) > settings.maxUploadSide)
      throw new ApiError(`the image is ${width}×${height} px; the API takes at most ${settings.maxUploadSide} px on a side (option \`maxUploadSide\`)`)
    let data = req.source
    let name = basename(req.file)
    let type = SERVICE_FORMATS[format]
    if (!type) {
      data = await sharp(req.source).png().toBuffer()
      name = `${basename(req.file)}.png`
      type = 'image/png'
    }
    if (data.length > settings.maxUploadBytes)
      throw new ApiError(`the image is ${(data.length / 1e6).toFixed(1)} MB; the API takes at most ${(settings.maxUploadBytes / 1e6).toFixed(1)} MB (option \`maxUploadBytes\`)`)
    return { data, type, name }
  }

  async function submit(req: EnhanceRequest, input: Awaited<ReturnType<typeof prepare>>, deadline: AbortSignal): Promise<TaskData> {
    const form = new FormData()
    if ('url' in input)
      form.append('image_url', input.url)
    else
      form.append('image_file', new Blob([Uint8Array.from(input.data)], { type: input.type }), input.name)
    form.append('type', req.type)
    if (!req.auto)
      form.append('scale_factor', String(req.scale))
    form.append('sync', settings.sync ? '1' : '0')
    if (settings.callbackUrl)
      form.append('callback_url', settings.callbackUrl)
    await limits.rate.wait()
    return taskFrom(await call(`${settings.apiUrl}/task/pic/scale`, { method: 'POST', body: form, auth: true }, deadline), 'the submit')
  }

  async function poll(task: TaskData, deadline: AbortSignal): Promise<TaskData> {
    let failures = 0
    let wait = settings.pollInterval
    while (true) {
      await delay(wait, deadline)
      wait = Math.min(wait * 1.25, settings.pollInterval * 4)
      await limits.rate.wait()
      try {
        const next = taskFrom(await call(`${settings.apiUrl}/task/${task.task_id}`, { method: 'GET', auth: true }, deadline), 'polling')
        failures = 0
        if (next.state === 1 || next.state! < 0)
          return next
      }
      catch (error) {
        if (!(error instanceof Retryable))
          throw error
        // the task is submitted (and maybe billed): give up on it rather than submit it again
        if (++failures > settings.retries)
          throw new ApiError(`polling task ${task.task_id} failed ${failures} times in a row; the last: ${error.message}`)
        if (error.waitMs)
          limits.rate.pause(error.waitMs)
      }
    }
  }

  async function download(task: TaskData, deadline: AbortSignal): Promise<Buffer> {
    // no Authorization header: the result lives on a storage host that must not see the token
    const res = await call(task.image!, { method: 'GET', auth: false }, deadline)
    if (res.status === 404)
      throw new Retryable('the result URL answered 404 (expired or never stored)')
    if (res.status >= 500)
      throw new Retryable(`the result URL answered HTTP ${res.status}`)
    if (res.status !== 200)
      throw new ApiError(`the result URL answered HTTP ${res.status}`)
    let info
    try {
      info = (await sharp(res.body, { failOn: 'error' }).raw().toBuffer({ resolveWithObject: true })).info
    }
    catch (error) {
      throw new ApiError(`the API's result is not a valid image (${(error as Error).message}); nothing was cached`)
    }
    if (task.image_width && task.image_height && (info.width !== task.image_width || info.height !== task.image_height))
      throw new ApiError(`the API's result is ${info.width}×${info.height} px but the task says ${task.image_width}×${task.image_height}; nothing was cached`)
    return res.body
  }

  async function attempt(req: EnhanceRequest, input: Awaited<ReturnType<typeof prepare>>, deadline: AbortSignal): Promise<EnhanceResult> {
    let task = await submit(req, input, deadline)
    if (task.state !== 1 && task.state! >= 0)
      task = await poll(task, deadline)
    if (task.state! < 0) {
      const why = `the task ended in state ${task.state} (${task.state_detail ?? 'no detail'})`
      throw RETRYABLE_STATES.has(task.state!) ? new Retryable(why) : new ApiError(why)
    }
    if (!task.image)
      throw new Retryable('the task is complete but has no image URL')
    const data = await download(task, deadline)
    return {
      data,
      provenance: {
        taskId: task.task_id,
        serviceType: task.type,
        scale: req.auto ? 'auto' : req.scale,
        width: task.image_width,
        height: task.image_height,
        completedAt: task.completed_at,
        timeElapsed: task.time_elapsed,
        input: 'url' in input ? 'image_url' : 'image_file',
        sync: settings.sync,
      },
    }
  }

  async function run(req: EnhanceRequest): Promise<EnhanceResult> {
    const input = await prepare(req)
    const deadline = AbortSignal.timeout(settings.taskTimeout)
    const history: string[] = []
    for (let n = 0; ; n++) {
      if (limits.state.tokenRejected)
        throw new ApiError('the API rejected the token earlier in this build; check the `token` option or UPSCALE_API_TOKEN')
      try {
        return await attempt(req, input, deadline)
      }
      catch (error) {
        if (!(error instanceof Retryable))
          throw error
        history.push(error.message)
        if (n >= settings.retries)
          throw new ApiError(`gave up after ${n + 1} attempts: ${history.map((h, i) => `${i + 1}) ${h}`).join('; ')}`)
        if (error.waitMs !== undefined)
          limits.rate.pause(error.waitMs)
        await delay(error.waitMs ?? backoff(n, settings.retryDelay), deadline)
      }
    }
  }

  return {
    id: 'api',
    // results of another service (say, the loopback test server) must never be served as this one's
    version: `${new URL(settings.apiUrl).origin}#1`,
    billable: true,
    async enhance(req) {
      try {
        return await limits.slots.use(() => run(req))
      }
      catch (error) {
        const message = redact((error as Error).message)
        throw new ApiError(error instanceof ApiError ? message : `unexpected failure: ${message}`)
      }
    },
    async close() {
      const a = agent
      agent = undefined
      await a?.close()
    },
  }
}
