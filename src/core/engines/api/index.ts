import type { Engine, EnhanceRequest, EnhanceResult, ResolvedOptions } from '../../../types'
import type { TaskData, Upload } from './task'
import { basename } from 'node:path'
import sharp from 'sharp'
import { checkImage } from '../../image'
import { backoff } from '../../limits'
import { sharedLimits } from '../../state'
import { ApiError, Retryable, Transport } from './http'
import { RETRYABLE_STATES, TaskClient } from './task'

export { ApiError } from './http'
export { errorMessage } from './task'

/** The resolved options the API client reads, with the token known to be set. */
export type ApiSettings = Pick<ResolvedOptions, 'apiUrl' | 'sync' | 'concurrency' | 'rateLimit' | 'timeout' | 'taskTimeout' | 'retries'
  | 'retryDelay' | 'pollInterval' | 'maxUploadBytes' | 'maxUploadSide' | 'publicUrl' | 'callbackUrl'> & {
    token: string
    /** one line per request: method, path, status, time (never a header) */
    debug?: (line: string) => void
  }

/** Input formats the service takes as they are; others are converted to PNG first (lossless). */
const SERVICE_FORMATS: Record<string, string> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', tiff: 'image/tiff' }
/** The largest result accepted: the service caps the long side at 4096 px, a PNG of that is < 70 MB. */
const MAX_RESULT_BYTES = 128 * 1024 * 1024

/**
 * The API engine: prepares the upload, runs a task (submit, poll, download) within the shared
 * concurrency and rate limits, retries what the contract says may be retried, and never lets the
 * token into a message.
 */
export function createApiEngine(settings: ApiSettings): Engine {
  const limits = sharedLimits(settings.apiUrl, settings.token, settings.concurrency, settings.rateLimit)
  const http = new Transport(settings)
  const tooLong = (): ApiError => new ApiError(`the task took longer than taskTimeout (${settings.taskTimeout / 1000} s)`)
  const rejectToken = (): void => {
    limits.state.tokenRejected = true
  }
  const tasks = new TaskClient(http, settings.apiUrl, rejectToken, tooLong)
  const delay = (ms: number, signal: AbortSignal): Promise<void> => new Promise((resolve, reject) => {
    if (signal.aborted)
      return reject(tooLong())
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

  async function prepare(req: EnhanceRequest): Promise<Upload> {
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

  async function poll(task: TaskData, deadline: AbortSignal): Promise<TaskData> {
    let failures = 0
    let wait = settings.pollInterval
    while (true) {
      await delay(wait, deadline)
      wait = Math.min(wait * 1.25, settings.pollInterval * 4)
      await limits.rate.wait()
      try {
        const next = await tasks.get(task.task_id!, deadline)
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

  /** The result, checked by one decode: a whole image of the size the task reports. */
  async function download(task: TaskData, deadline: AbortSignal): Promise<Required<EnhanceResult>['info'] & { data: Buffer }> {
    const res = await http.request(task.image!, { method: 'GET', auth: false, maxBytes: MAX_RESULT_BYTES }, deadline, tooLong)
    if (res.status === 404)
      throw new Retryable('the result URL answered 404 (expired or never stored)')
    if (res.status >= 500)
      throw new Retryable(`the result URL answered HTTP ${res.status}`)
    if (res.status !== 200)
      throw new ApiError(`the result URL answered HTTP ${res.status}`)
    let info
    try {
      info = await checkImage(res.body)
    }
    catch (error) {
      throw new ApiError(`the API's result is not a valid image (${(error as Error).message}); nothing was cached`)
    }
    if (task.image_width && task.image_height && (info.width !== task.image_width || info.height !== task.image_height))
      throw new ApiError(`the API's result is ${info.width}×${info.height} px but the task says ${task.image_width}×${task.image_height}; nothing was cached`)
    return { ...info, data: res.body }
  }

  async function attempt(req: EnhanceRequest, upload: Upload, deadline: AbortSignal): Promise<EnhanceResult> {
    await limits.rate.wait()
    const { sync, callbackUrl } = settings
    const scale = req.auto ? undefined : req.scale
    let task = await tasks.submit({ upload, type: req.type, scale, sync, callbackUrl }, deadline)
    if (task.state !== 1 && task.state! >= 0)
      task = await poll(task, deadline)
    if (task.state! < 0) {
      const why = `the task ended in state ${task.state} (${task.state_detail ?? 'no detail'})`
      throw RETRYABLE_STATES.has(task.state!) ? new Retryable(why) : new ApiError(why)
    }
    if (!task.image)
      throw new Retryable('the task is complete but has no image URL')
    const { data, ...info } = await download(task, deadline)
    return {
      data,
      info,
      provenance: {
        taskId: task.task_id,
        serviceType: task.type,
        scale: req.auto ? 'auto' : req.scale,
        width: task.image_width,
        height: task.image_height,
        completedAt: task.completed_at,
        timeElapsed: task.time_elapsed,
        input: 'url' in upload ? 'image_url' : 'image_file',
        sync: settings.sync,
      },
    }
  }

  async function run(req: EnhanceRequest): Promise<EnhanceResult> {
    const upload = await prepare(req)
    // a timer of our own: a bare AbortSignal.timeout() can be collected, and then never fires
    const task = new AbortController()
    const timer = setTimeout(() => task.abort(), settings.taskTimeout)
    try {
      return await attempts(req, upload, task.signal)
    }
    finally {
      clearTimeout(timer)
    }
  }

  async function attempts(req: EnhanceRequest, upload: Upload, deadline: AbortSignal): Promise<EnhanceResult> {
    const history: string[] = []
    for (let n = 0; ; n++) {
      if (limits.state.tokenRejected)
        throw new ApiError('the API rejected the token earlier in this build; check the `token` option or UPSCALE_API_TOKEN')
      try {
        return await attempt(req, upload, deadline)
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
        const message = http.redact((error as Error).message)
        throw new ApiError(error instanceof ApiError ? message : `unexpected failure: ${message}`)
      }
    },
    close: () => http.close(),
  }
}
