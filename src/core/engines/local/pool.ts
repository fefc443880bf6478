import type { EnhanceType, ScaleFactor } from '../../../types'
import type { LocalMethod } from './pixels'
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { enhancePixels } from './pixels'

/** One image's pixel work, as a worker takes it. */
export interface PixelJob {
  samples: Uint8Array | Uint16Array
  width: number
  height: number
  channels: number
  scale: ScaleFactor
  type: EnhanceType
  method: LocalMethod
  /** a JPEG source's quality (jpeg.ts), for its artifacts' correction */
  jpeg?: number
}

/** The worker itself failed (not the job): the caller falls back to its own thread. */
class WorkerLost extends Error {}

/** The enhanced pixels, and the thread that made them (0: the calling thread). */
export interface PixelResult { pixels: Uint8Array | Uint16Array, thread: number }

interface Pending { resolve: (result: PixelResult) => void, reject: (error: Error) => void }

/**
 * Worker threads for the local engine's TypeScript work, one per core, started on first use and
 * not keeping the process alive. Where no worker can start (the worker file missing, a runtime
 * without workers), the work runs on the calling thread instead: same code, same bytes.
 */
class Pool {
  private workers: Array<{ worker: Worker, busy: number }> | undefined
  private readonly pending = new Map<number, Pending>()
  private next = 0
  private broken = false

  async run(job: PixelJob): Promise<PixelResult> {
    const workers = this.start()
    if (!workers)
      return inline(job)
    const slot = workers.reduce((a, b) => (b.busy < a.busy ? b : a))
    const id = this.next++
    // a copy the worker owns: a Buffer may be a view of a pool shared with others (Buffer#slice would
    // be one too), and Node 22 refuses to transfer such memory
    const samples = job.samples instanceof Uint16Array ? new Uint16Array(job.samples) : new Uint8Array(job.samples)
    // held open while it works for us, let go when idle: a finished build must be free to exit
    if (slot.busy++ === 0)
      slot.worker.ref()
    try {
      return await new Promise((resolve, reject) => {
        this.pending.set(id, { resolve, reject })
        slot.worker.postMessage({ id, ...job, samples }, [samples.buffer])
      })
    }
    catch (error) {
      // a worker that could not start or died: do the work here rather than fail the image
      if (!(error instanceof WorkerLost))
        throw error
      return inline(job)
    }
    finally {
      if (--slot.busy === 0)
        slot.worker.unref()
    }
  }

  private start(): Array<{ worker: Worker, busy: number }> | undefined {
    if (this.workers || this.broken)
      return this.workers
    try {
      const here = import.meta.url
      const source = here.endsWith('.ts')
      const file = new URL(source ? './worker.ts' : here.endsWith('.cjs') ? './local-worker.cjs' : './local-worker.js', here)
      this.workers = Array.from({ length: Math.max(1, availableParallelism()) }, () => {
        // from the TypeScript sources (tests, the bench): tsx's loader first, then the worker module
        const boot = `import('tsx/esm/api').then(m => m.register()).then(() => import(${JSON.stringify(file.href)}))`
        const worker = source ? new Worker(boot, { eval: true }) : new Worker(file)
        worker.on('message', ({ id, pixels, error }: { id: number, pixels?: Uint8Array | Uint16Array, error?: string }) => {
          const waiting = this.pending.get(id)
          this.pending.delete(id)
          if (error)
            waiting?.reject(new Error(error))
          else
            waiting?.resolve({ pixels: pixels!, thread: worker.threadId })
        })
        worker.on('error', (error) => {
          for (const waiting of this.pending.values())
            waiting.reject(new WorkerLost(error.message))
          this.pending.clear()
          this.broken = true
          this.workers = undefined
        })
        // idle until a job comes (see run)
        worker.unref()
        return { worker, busy: 0 }
      })
    }
    catch {
      this.broken = true
      this.workers = undefined
    }
    return this.workers
  }
}

function inline(job: PixelJob): PixelResult {
  const { samples, width, height, channels, scale, type, method, jpeg } = job
  return { pixels: enhancePixels(samples, width, height, channels, scale, type, method, jpeg), thread: 0 }
}

const pool = new Pool()

export const enhanceOnWorker = (job: PixelJob): Promise<PixelResult> => pool.run(job)
