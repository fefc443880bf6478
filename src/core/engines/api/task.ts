import type { HttpResponse, Transport } from './http'
import { FormData } from 'undici'
import { parseRetryAfter } from '../../limits'
import { ApiError, Retryable } from './http'

/** The task object of the contract (docs/api.md); unknown fields are ignored. */
export interface TaskData {
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

/** States after which submitting again is the documented remedy: the service's own failures. */
export const RETRYABLE_STATES = new Set([-2, -8])
/** JSON answers are small; anything larger is not a task object. */
const MAX_JSON_BYTES = 1 << 20

export type Upload = { data: Buffer, type: string, name: string } | { url: string }

export interface SubmitFields {
  upload: Upload
  type: string
  /** undefined: let the service choose (auto) */
  scale: number | undefined
  sync: boolean
  callbackUrl: string | undefined
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

/**
 * The task protocol: submit, poll, read a task object. HTTP and body errors become Retryable (429,
 * 5xx, bodies that are not a task) or ApiError (everything else); a 401 also marks the token as
 * rejected for the rest of the process.
 */
export class TaskClient {
  constructor(
    private readonly http: Transport,
    private readonly apiUrl: string,
    private readonly onTokenRejected: () => void,
    private readonly onDeadline: () => Error,
  ) {}

  async submit(fields: SubmitFields, deadline: AbortSignal): Promise<TaskData> {
    const form = new FormData()
    if ('url' in fields.upload)
      form.append('image_url', fields.upload.url)
    else
      form.append('image_file', new Blob([Uint8Array.from(fields.upload.data)], { type: fields.upload.type }), fields.upload.name)
    form.append('type', fields.type)
    if (fields.scale !== undefined)
      form.append('scale_factor', String(fields.scale))
    form.append('sync', fields.sync ? '1' : '0')
    if (fields.callbackUrl)
      form.append('callback_url', fields.callbackUrl)
    const request = { method: 'POST' as const, body: form, auth: true, maxBytes: MAX_JSON_BYTES }
    const res = await this.http.request(`${this.apiUrl}/task/pic/scale`, request, deadline, this.onDeadline)
    return this.taskFrom(res, 'the submit')
  }

  async get(taskId: string, deadline: AbortSignal): Promise<TaskData> {
    const request = { method: 'GET' as const, auth: true, maxBytes: MAX_JSON_BYTES }
    const res = await this.http.request(`${this.apiUrl}/task/${encodeURIComponent(taskId)}`, request, deadline, this.onDeadline)
    return this.taskFrom(res, 'polling')
  }

  private taskFrom(res: HttpResponse, what: string): TaskData {
    const text = res.body.toString('utf8')
    const reason = `${what} answered HTTP ${res.status}: ${errorMessage(text)}`
    if (res.status === 401) {
      this.onTokenRejected()
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
    if (body?.status !== undefined && body.status !== 200)
      throw (body.status === 429 || body.status >= 500
        ? new Retryable(reason)
        : new ApiError(`${what} answered status ${body.status}: `
          + `${errorMessage(text)}`))
    if (!body?.data || typeof body.data.state !== 'number')
      throw new Retryable(`${what} answered without a task state`)
    return body.data
  }
}
