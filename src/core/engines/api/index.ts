import type { Engine, EnhanceRequest, EnhanceResult, ResolvedOptions } from '../../../types'
import type { TaskData, Upload } from './task'
import { basename } from 'node:path'
import sharp from 'sharp'
import { checkImage, isScaleOf } from '../../image'
import { backoff, Turn } from '../../limits'
import { sharedLimits } from '../../state'
import { ApiError, Retryable, Transport } from './http'
import { RETRYABLE_STATES, TaskClient } from './task'
import { UrlRefused } from './url-policy'

export { ApiError } from './http'
export { errorMessage } from './task'

/** The resolved options the API client reads, with the token known to be set. */
export type ApiSettings = Pick<ResolvedOptions, 'apiUrl' | 'sync' | 'concurrency' | 'rateLimit' | 'timeout' | 'taskTimeout'
  | 'retries' | 'retryDelay' | 'pollInterval' | 'maxUploadBytes' | 'maxUploadSide' | 'publicUrl' | 'callbackUrl'
  | 'maxOutputPixels' | 'maxResultBytes'> & {
    token: string
    /** one line per request: method, path, status, time (never a header) */
    debug?: (line: string) => void
  }

/** Input formats the service takes as they are; others are converted to PNG first (lossless). */
const SERVICE_FORMATS: Record<string, string> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', tiff: 'image/tiff' }

/** The result arrived and is not what the task says: the task is over, and downloading it again would not help. */
class BadResult extends ApiError {}

type ResultImage = Required<EnhanceResult>['info'] & { data: Buffer }
/** A task at its end: its result when it succeeded, else only its (negative) state. */
interface Finished { task: TaskData, result?: ResultImage }

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
  /** when each task's deadline falls, by its signal: a wait that would outlast it fails at once */
  const endsAt = new WeakMap<AbortSignal, number>()
  /** each task's place under `concurrency` (see Turn), by its deadline's signal */
  const turns = new WeakMap<AbortSignal, Turn>()
  /**
   * Before each API call: the task's API slot (see Turn), then a rate-limit wait (a Retry-After may
   * have paused it), both ending with the task's deadline.
   */
  const rateWait = (signal: AbortSignal): Promise<void> => new Promise((resolve, reject) => {
    if (signal.aborted)
      return reject(tooLong())
    const onAbort = (): void => reject(tooLong())
    signal.addEventListener('abort', onAbort, { once: true })
    Promise.resolve(turns.get(signal)?.api())
      .then(() => limits.rate.wait())
      .then(resolve, reject)
      .finally(() => signal.removeEventListener('abort', onAbort))
  })
  /** A Retry-After longer than the task has left ends it now, rather than when the deadline hits. */
  const checkWait = (error: Retryable, signal: AbortSignal): void => {
    const left = (endsAt.get(signal) ?? Infinity) - Date.now()
    if (error.waitMs !== undefined && error.waitMs > left)
      throw new ApiError(`${error.message}; the API asks to wait ${Math.ceil(error.waitMs / 1000)} s (Retry-After), more than taskTimeout `
        + `(${settings.taskTimeout / 1000} s) leaves`)
  }
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
    const url = req.sourceUrl ?? settings.publicUrl?.(req.file)
    if (url)
      return { url }
    const { width, height, format } = req.info
    if (Math.max(width, height) > settings.maxUploadSide)
      throw new ApiError(`the image is ${width}×${height} px; the API takes at most ${settings.maxUploadSide} px on a side (option `
        + `\`maxUploadSide\`)`)
    let data = Buffer.from(req.source.buffer, req.source.byteOffset, req.source.byteLength)
    let name = basename(req.file)
    let type = SERVICE_FORMATS[format]
    if (!type) {
      data = await sharp(req.source).png().toBuffer()
      name = `${basename(req.file)}.png`
      type = 'image/png'
    }
    if (data.length > settings.maxUploadBytes)
      throw new ApiError(`the image is ${(data.length / 1e6).toFixed(1)} MB; the API takes at most `
        + `${(settings.maxUploadBytes / 1e6).toFixed(1)} MB (option \`maxUploadBytes\`)`)
    return { data, type, name }
  }

  async function poll(task: TaskData, deadline: AbortSignal): Promise<TaskData> {
    let failures = 0
    let wait = settings.pollInterval
    while (true) {
      await delay(wait, deadline)
      wait = Math.min(wait * 1.25, settings.pollInterval * 4)
      await rateWait(deadline)
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
        checkWait(error, deadline)
        if (error.waitMs)
          limits.rate.pause(error.waitMs)
      }
    }
  }

  /** The result, checked by one decode: a whole image of the size the task reports. */
  async function download(req: EnhanceRequest, task: TaskData, deadline: AbortSignal): Promise<ResultImage> {
    const maxBytes = settings.maxResultBytes
    // no API call: the slot goes to the next task while this result arrives
    await turns.get(deadline)?.download()
    let res
    try {
      res = await http.request(task.image!, { method: 'GET', auth: false, maxBytes, kind: 'result' }, deadline, tooLong)
    }
    catch (error) {
      // a result URL the policy refuses is the task's end: neither downloaded again nor resumed
      if (error instanceof UrlRefused)
        throw new BadResult(`${error.message}. Results are fetched only over https or from the API's own origin, and never from a `
          + `loopback, private, link-local or metadata address`)
      throw error
    }
    if (res.status === 404)
      throw new Retryable('the result URL answered 404 (expired or never stored)')
    if (res.status >= 500)
      throw new Retryable(`the result URL answered HTTP ${res.status}`)
    if (res.status !== 200)
      throw new ApiError(`the result URL answered HTTP ${res.status}`)
    let info
    try {
      info = await checkImage(res.body, settings.maxOutputPixels)
    }
    catch (error) {
      throw new BadResult(`the API's result is not a valid image (${(error as Error).message}); nothing was cached`)
    }
    if (task.image_width && task.image_height && (info.width !== task.image_width || info.height !== task.image_height))
      throw new BadResult(`the API's result is ${info.width}×${info.height} px but the task says `
        + `${task.image_width}×${task.image_height}; nothing was cached`)
    // no declared size: the result must still be the source at a scale asked for (auto: 1, 2 or 4), to a pixel or two
    const scales = req.auto ? [1, 2, 4] : [req.scale]
    const { width, height } = req.info
    const declared = Boolean(task.image_width && task.image_height)
    if (!declared && !isScaleOf(info, req.info, scales))
      throw new BadResult(`the API's result is ${info.width}×${info.height} px, which is no ${scales.join(', ')}x `
        + `of the ${width}×${height} source; nothing was cached`)
    return { ...info, data: res.body }
  }

  /** Submit until a task exists: a 429, a 5xx or a dropped connection created none, so trying again is free. */
  async function submit(req: EnhanceRequest, upload: Upload, deadline: AbortSignal, history: string[]) {
    const { sync, callbackUrl } = settings
    const scale = req.auto ? undefined : req.scale
    for (;;) {
      try {
        await rateWait(deadline)
        const task = await tasks.submit({ upload, type: req.type, scale, sync, callbackUrl }, deadline)
        if (!task.task_id)
          throw new ApiError('the submit answered a task without a task_id')
        // an id that carries the token (an echoing server) is never written to disk
        await req.tasks?.submitted(http.redact(task.task_id) === task.task_id ? task.task_id : undefined)
        return task
      }
      catch (error) {
        await retryOrThrow(error, history, deadline)
      }
    }
  }

  /** After a Retryable failure: wait (backoff, or the server's Retry-After) while attempts remain, else give up. */
  async function retryOrThrow(error: unknown, history: string[], deadline: AbortSignal): Promise<void> {
    if (!(error instanceof Retryable))
      throw error
    history.push(error.message)
    if (history.length > settings.retries)
      throw new ApiError(`gave up after ${history.length} attempts: ${history.map((h, i) => `${i + 1}) ${h}`).join('; ')}`)
    checkWait(error, deadline)
    if (error.waitMs !== undefined)
      limits.rate.pause(error.waitMs)
    await delay(error.waitMs ?? backoff(history.length - 1, settings.retryDelay), deadline)
  }

  /** A task that exists (and may be billed) is polled and downloaded, never submitted again for a transport failure. */
  async function finish(req: EnhanceRequest, task: TaskData, deadline: AbortSignal): Promise<Finished> {
    const history: string[] = []
    for (;;) {
      if (task.state !== 1 && task.state! >= 0)
        task = await poll(task, deadline)
      if (task.state! < 0)
        return { task }
      try {
        if (!task.image)
          throw new Retryable('the task is complete but has no image URL')
        return { task, result: await download(req, task, deadline) }
      }
      catch (error) {
        if (error instanceof BadResult) {
          await req.tasks?.over()
          throw error
        }
        try {
          await retryOrThrow(error, history, deadline)
        }
        catch (final) {
          throw new ApiError(`task ${task.task_id} is done (and billed), but its result could not be downloaded: `
            + `${(final as Error).message}. `
            + 'Its id is journaled in the cache: the next build downloads it instead of paying again, while the service keeps it (about '
            + 'an hour)')
        }
        // the result URL may have expired or moved: ask the task again for a fresh one
        task = { ...task, state: 0 }
      }
    }
  }

  async function attempts(req: EnhanceRequest, upload: Upload | undefined, deadline: AbortSignal) {
    const history: string[] = []
    // an earlier build paid for this image and never cached it: pick its task up where it was
    let task = req.tasks?.resume ? await resumed(req.tasks.resume.taskId, deadline) : undefined
    for (;;) {
      if (limits.state.tokenRejected)
        throw new ApiError('the API rejected the token earlier in this build; check the `token` option or UPSCALE_API_TOKEN')
      task ??= await submit(req, upload ?? await prepare(req), deadline, history)
      const done = await finish(req, task, deadline)
      if (done.result) {
        const { data, ...info } = done.result
        const t = done.task
        return {
          data,
          info,
          provenance: {
            taskId: http.redact(String(t.task_id)),
            serviceType: t.type,
            scale: req.auto ? 'auto' : req.scale,
            width: t.image_width,
            height: t.image_height,
            completedAt: t.completed_at,
            timeElapsed: t.time_elapsed,
            input: upload && 'url' in upload ? 'image_url' : 'image_file',
            sync: settings.sync,
            ...(req.tasks?.resume?.taskId === t.task_id ? { resumed: true } : {}),
          },
        }
      }
      await req.tasks?.over()
      const { state, state_detail: detail } = done.task
      const why = `the task ended in state ${state} (${detail ?? 'no detail'})`
      if (!RETRYABLE_STATES.has(state!))
        throw new ApiError(why)
      // the service's own failure: the documented remedy is a new task, which is billed again
      history.push(why)
      if (history.length > settings.retries)
        throw new ApiError(`gave up after ${history.length} attempts: ${history.map((h, i) => `${i + 1}) ${h}`).join('; ')}`)
      if (req.tasks && !req.tasks.another(http.redact(`task ${done.task.task_id}: ${why}; submitting it again (one more billable task)`)))
        throw new ApiError(`${why}, and maxTasks allows no new task to replace it`)
      task = undefined
    }
  }

  /** The task an earlier build journaled, as the service sees it now; undefined when it is forgotten. */
  async function resumed(taskId: string, deadline: AbortSignal): Promise<TaskData | undefined> {
    try {
      await rateWait(deadline)
      return await tasks.get(taskId, deadline)
    }
    catch (error) {
      if (limits.state.tokenRejected)
        throw error
      settings.debug?.(`journaled task ${http.redact(taskId)} cannot be resumed (${(error as Error).message}): submitting anew`)
      return undefined
    }
  }

  async function run(req: EnhanceRequest): Promise<EnhanceResult> {
    // a resumed task needs no upload; the source's limits are checked for a new one
    const upload = req.tasks?.resume ? undefined : await prepare(req)
    // a timer of our own: a bare AbortSignal.timeout() can be collected, and then never fires
    // the task's clock starts once it has its first API slot, not while it waits for one
    const turn = new Turn(limits.slots, limits.downloads)
    const task = new AbortController()
    let timer: NodeJS.Timeout | undefined
    try {
      await turn.api()
      turns.set(task.signal, turn)
      endsAt.set(task.signal, Date.now() + settings.taskTimeout)
      timer = setTimeout(() => task.abort(), settings.taskTimeout)
      return await attempts(req, upload, task.signal)
    }
    finally {
      clearTimeout(timer)
      turn.leave()
    }
  }

  return {
    id: 'api',
    // results of another service (say, the loopback test server) must never be served as this one's
    version: `${new URL(settings.apiUrl).origin}#1`,
    billable: true,
    async enhance(req) {
      try {
        return await run(req)
      }
      catch (error) {
        const message = http.redact((error as Error).message)
        throw new ApiError(error instanceof ApiError ? message : `unexpected failure: ${message}`)
      }
    },
    close: () => http.close(),
  }
}
