/**
 * A loopback server that speaks the enhancement API contract (docs/api.md): real
 * HTTP, real multipart, real images (enlarged with sharp), sync and async flows with intermediate
 * states, result URLs it serves itself and expires, and faults injected on demand.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHash, randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import sharp from 'sharp'

export type Route = 'submit' | 'poll' | 'result'

export interface Fault {
  /** which requests it hits (default 'submit') */
  route?: Route
  /** how many matching requests it applies to (default 1) */
  times?: number
  /** extra delay before answering, ms */
  latency?: number
  /** answer with this HTTP status and an error body */
  status?: number
  /** error body shape: `{ status, message }` (upstream) or `{ error: { message, type, code } }` (gateway) */
  shape?: 'upstream' | 'gateway'
  message?: string
  /** seconds, sent as Retry-After */
  retryAfter?: number
  /** destroy the connection without answering */
  drop?: boolean
  /** send the answer in small pieces this many ms apart */
  slowBody?: number
  /** answer 200 with a body that is not JSON */
  malformedJson?: boolean
  /** answer with an HTML error page (a proxy in the way) */
  html?: boolean
  /** the task ends in this (negative) state */
  state?: number
  /** result route: serve corrupted bytes */
  corrupt?: boolean
  /** the task reports a result size one pixel wider than the image it serves */
  misreport?: boolean
  /** submit: the task's result URL is this one (a hostile or broken storage host) */
  imageUrl?: string
  /** submit: the task object leaves out image_width and image_height */
  noDims?: boolean
  /** submit: the result is resized to this width × height (a result of the wrong size) */
  resultSize?: [number, number]
  /** any route: answer with this handler instead (a hostile storage behind the API's own result URL) */
  respond?: (req: IncomingMessage, res: ServerResponse) => void
  /** any route: answer with this redirect (status, Location) instead */
  redirect?: { status: number, location: string }
  /** submit: the task id carries the token, as a careless server might echo it */
  echoToken?: boolean
  /** poll: answer 200 with a task object that has no state */
  noState?: boolean
}

interface Task {
  id: string
  state: number
  finalState: number
  detail: string
  polls: number
  type: string
  result?: { data: Buffer, ext: string, width: number, height: number }
  misreport?: boolean
  imageUrl?: string
  noDims?: boolean
  created: number
  completed?: number
}

export interface ServerStats {
  requests: number
  submits: number
  polls: number
  downloads: number
  /** the most API requests (submit or poll) that were in progress at once */
  maxParallel: number
  /** everything the submits carried, field by field (files as byte counts) */
  submitted: Array<Record<string, string | number>>
  /** Authorization headers seen, to check what was sent */
  authorizations: string[]
  /** sha256 of every result served */
  served: string[]
  /** when each API request (submit or poll) arrived, ms since the epoch */
  times: number[]
}

export interface ScaleServer {
  url: string
  token: string
  stats: ServerStats
  /** add faults, applied in order to matching requests */
  inject: (...faults: Fault[]) => void
  /** serve bytes at `${url}/cdn/<name>`, for image_url submits */
  host: (name: string, data: Buffer) => string
  close: () => Promise<void>
}

export interface ServerOptions {
  token?: string
  /** delay before every API answer, ms */
  latency?: number
  /** polls a task goes through before it is done (states 0, 2, 3, 4 then final) */
  pollsToFinish?: number
  /** how long result URLs stay valid, ms */
  resultTtl?: number
  port?: number
}

const MIME: Record<string, string> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', tiff: 'image/tiff' }
const STATE_DETAIL: Record<number, string> = {
  1: 'Complete', 0: 'Queued', 2: 'Preparing', 3: 'Waiting', 4: 'Processing', [-1]: 'Failed', [-2]: 'Result upload failed',
  [-3]: 'Could not download image_url', [-5]: 'Image too large', [-7]: 'Invalid or corrupt image', [-8]: 'Processing timed out',
}
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

export async function startScaleServer(options: ServerOptions = {}): Promise<ScaleServer> {
  const token = options.token ?? `test-token-${randomUUID()}`
  const pollsToFinish = options.pollsToFinish ?? 4
  const resultTtl = options.resultTtl ?? 3_600_000
  const faults: Fault[] = []
  const tasks = new Map<string, Task>()
  const cdn = new Map<string, Buffer>()
  const stats: ServerStats = {
    requests: 0,
    submits: 0,
    polls: 0,
    downloads: 0,
    maxParallel: 0,
    submitted: [],
    authorizations: [],
    served: [],
    times: [],
  }
  let active = 0
  let url = ''

  function takeFault(route: Route): Fault | undefined {
    const i = faults.findIndex(f => (f.route ?? 'submit') === route)
    if (i < 0)
      return undefined
    const fault = faults[i]
    fault.times = (fault.times ?? 1) - 1
    if (fault.times <= 0)
      faults.splice(i, 1)
    return fault
  }

  async function send(
    res: ServerResponse,
    status: number,
    body: string | Buffer,
    type: string,
    fault?: Fault,
  ): Promise<void> {
    res.statusCode = status
    res.setHeader('Content-Type', type)
    if (fault?.retryAfter !== undefined)
      res.setHeader('Retry-After', String(fault.retryAfter))
    const data = Buffer.isBuffer(body) ? body : Buffer.from(body)
    res.setHeader('Content-Length', data.length)
    if (!fault?.slowBody)
      return void res.end(data)
    for (let i = 0; i < data.length; i += 16) {
      res.write(data.subarray(i, i + 16))
      await sleep(fault.slowBody)
    }
    res.end()
  }

  const json = (res: ServerResponse, status: number, body: unknown, fault?: Fault) => send(res, status, JSON.stringify(body), 'application/json', fault)

  function errorBody(status: number, message: string, shape: Fault['shape'] = 'upstream'): unknown {
    return shape === 'gateway' ? { error: { message, type: 'invalid_request_error', code: String(status) } } : { status, message }
  }

  function taskObject(task: Task): unknown {
    const done = task.state === 1 && task.result
    return {
      status: 200,
      data: {
        task_id: task.id,
        state: task.state,
        state_detail: task.detail || STATE_DETAIL[task.state] || 'Unknown',
        progress: task.state === 1 ? 100 : task.state === 4 ? 50 : 0,
        ...(done ? { image: task.imageUrl ?? `${url}/results/${task.id}.${task.result!.ext}` } : {}),
        ...(done && !task.noDims
          ? { image_width: task.result!.width + (task.misreport ? 1 : 0), image_height: task.result!.height }
          : {}),
        type: task.type,
        return_type: 1,
        created_at: Math.floor(task.created / 1000),
        processed_at: Math.floor(task.created / 1000),
        completed_at: task.completed ? Math.floor(task.completed / 1000) : 0,
        download_time: 0,
        time_elapsed: task.completed ? task.completed - task.created : 0,
        some_future_field: 'tolerate me',
      },
    }
  }

  /** Enlarge with sharp so results are real images of the right size (the output long edge is capped at 4096). */
  async function process(input: Buffer, factor: string | undefined): Promise<Task['result'] | number> {
    let meta
    try {
      meta = await sharp(input).metadata()
    }
    catch {
      return -7
    }
    const format = meta.format ?? ''
    if (!(format in MIME) || !meta.width || !meta.height)
      return -7
    if (Math.max(meta.width, meta.height) > 4096)
      return -5
    const long = Math.max(meta.width, meta.height)
    let s = factor ? Number(factor) : long <= 512 ? 4 : long <= 1024 ? 2 : 1
    s = Math.min(s, 4096 / long)
    const width = Math.round(meta.width * s)
    const height = Math.round(meta.height * s)
    try {
      const data = await sharp(input).resize(width, height, { kernel: 'nearest', fit: 'fill' }).toFormat(format as 'png').toBuffer()
      return { data, ext: format === 'jpeg' ? 'jpg' : format, width, height }
    }
    catch {
      return -7
    }
  }

  async function submit(req: IncomingMessage, res: ServerResponse, body: Buffer, fault?: Fault): Promise<void> {
    let form: FormData
    try {
      form = await new Request('http://local/', { method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? '' }, body: Uint8Array.from(body) }).formData()
    }
    catch {
      return json(res, 400, errorBody(400, 'body is not multipart/form-data'))
    }
    const record: Record<string, string | number> = {}
    for (const [k, v] of form.entries())
      record[k] = typeof v === 'string' ? v : v.size
    const file = form.get('image_file')
    if (typeof file === 'object' && file)
      record.image_file_name = file.name
    stats.submitted.push(record)

    const imageUrl = form.get('image_url')
    if ((file === null) === (imageUrl === null))
      return json(res, 400, errorBody(400, 'send exactly one of image_file and image_url'))
    const type = String(form.get('type') ?? 'clean')
    if (type !== 'clean' && type !== 'face')
      return json(res, 400, errorBody(400, `invalid type: ${type}`))
    const factor = form.get('scale_factor') === null ? undefined : String(form.get('scale_factor'))
    if (factor !== undefined && !['1', '2', '4'].includes(factor))
      return json(res, 400, errorBody(400, `invalid scale_factor: ${factor}`))
    const sync = String(form.get('sync') ?? '0') === '1'

    let input: Buffer | undefined
    let state = 1
    if (typeof file === 'object' && file) {
      input = Buffer.from(await file.arrayBuffer())
      if (input.length > 15 * 1024 * 1024)
        return json(res, 413, errorBody(413, 'file too large'))
    }
    else {
      try {
        const r = await fetch(String(imageUrl))
        if (!r.ok)
          throw new Error(String(r.status))
        input = Buffer.from(await r.arrayBuffer())
      }
      catch {
        state = -3
      }
    }
    let result = input ? await process(input, factor) : undefined
    if (typeof result === 'number')
      state = result
    if (typeof result === 'object' && fault?.resultSize) {
      const [width, height] = fault.resultSize
      result = { ...result, width, height, data: await sharp(result.data).resize(width, height, { fit: 'fill' }).toBuffer() }
    }
    const task: Task = { id: fault?.echoToken ? `${randomUUID()}-${token}` : randomUUID(), imageUrl: fault?.imageUrl, state: 0, finalState: fault?.state ?? state, detail: '', polls: 0, type, result: typeof result === 'object' ? result : undefined, misreport: fault?.misreport, noDims: fault?.noDims, created: Date.now() }
    tasks.set(task.id, task)
    if (sync || (task.finalState < 0 && pollsToFinish === 0))
      finish(task)
    return json(res, 200, taskObject(task), fault)
  }

  function finish(task: Task): void {
    task.state = task.finalState
    task.completed = Date.now()
  }

  function poll(res: ServerResponse, id: string, fault: Fault | undefined): Promise<void> {
    if (fault?.noState)
      return json(res, 200, { status: 200, data: { task_id: id } })
    const task = tasks.get(decodeURIComponent(id))
    if (!task)
      return json(res, 404, errorBody(404, 'task not found'))
    if (task.state === 0 || task.state >= 2) {
      task.polls++
      if (task.polls >= pollsToFinish)
        finish(task)
      else
        task.state = [0, 2, 3, 4][Math.min(task.polls, 3)]
    }
    return json(res, 200, taskObject(task), fault)
  }

  async function result(res: ServerResponse, name: string, fault: Fault | undefined): Promise<void> {
    const task = tasks.get(name.split('.')[0])
    if (!task?.result || !task.completed || Date.now() - task.completed > resultTtl)
      return send(res, 404, 'expired or unknown', 'text/plain')
    let data = task.result.data
    if (fault?.corrupt)
      data = Buffer.concat([data.subarray(0, 64), Buffer.alloc(256, 7)])
    stats.served.push(createHash('sha256').update(data).digest('hex'))
    return send(res, 200, data, MIME[task.result.ext === 'jpg' ? 'jpeg' : task.result.ext], fault)
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    stats.requests++
    const path = new URL(req.url ?? '/', 'http://local').pathname
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks)

    if (req.method === 'GET' && path.startsWith('/cdn/')) {
      const data = cdn.get(path.slice(5))
      return data ? send(res, 200, data, 'application/octet-stream') : send(res, 404, 'no', 'text/plain')
    }
    const route: Route | undefined = req.method === 'POST' && path === '/task/pic/scale'
      ? 'submit'
      : req.method === 'GET' && path.startsWith('/task/')
        ? 'poll'
        : req.method === 'GET' && path.startsWith('/results/') ? 'result' : undefined
    if (!route)
      return json(res, 404, errorBody(404, 'not found'))

    stats[({ submit: 'submits', poll: 'polls', result: 'downloads' } as const)[route]]++
    const fault = takeFault(route)
    const isApi = route !== 'result'
    if (isApi) {
      stats.times.push(Date.now())
      active++
      stats.maxParallel = Math.max(stats.maxParallel, active)
    }
    try {
      const delay = (fault?.latency ?? 0) + (isApi ? options.latency ?? 0 : 0)
      if (delay)
        await sleep(delay)
      if (fault?.drop)
        return void req.socket.destroy()
      if (isApi) {
        stats.authorizations.push(String(req.headers.authorization))
        if (req.headers.authorization !== `Bearer ${token}`)
          return json(res, 401, errorBody(401, 'Invalid token'))
      }
      if (fault?.respond)
        return fault.respond(req, res)
      if (fault?.redirect) {
        res.writeHead(fault.redirect.status, { location: fault.redirect.location }).end()
        return
      }
      if (fault?.status)
        return json(res, fault.status, errorBody(fault.status, fault.message ?? `injected ${fault.status}`, fault.shape), fault)
      if (fault?.html)
        return send(res, 502, '<html><body><h1>502 Bad Gateway</h1></body></html>', 'text/html')
      if (fault?.malformedJson)
        return send(res, 200, '{"status": 200, "data": {"task_id": ', 'application/json')
      if (route === 'submit')
        return await submit(req, res, body, fault)
      if (route === 'poll')
        return await poll(res, path.slice('/task/'.length), fault)
      return await result(res, path.slice('/results/'.length), fault)
    }
    finally {
      if (isApi)
        active--
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent)
        json(res, 500, errorBody(500, String(error)))
    })
  })
  server.keepAliveTimeout = 500
  await new Promise<void>(r => server.listen(options.port ?? 0, '127.0.0.1', r))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  return {
    url,
    token,
    stats,
    inject: (...f) => faults.push(...f),
    host: (name, data) => {
      cdn.set(name, data)
      return `${url}/cdn/${name}`
    },
    close: () => new Promise((r) => {
      server.closeAllConnections()
      server.close(() => r())
    }),
  }
}
