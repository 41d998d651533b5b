/**
 * Runs requests on `jobs` worker threads, or inline (the same handler, in this thread) when jobs
 * is 1. Each request gets its own promise, so callers consume results in their own order,
 * whatever order the workers finish in.
 */
import fs from 'node:fs';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { handle, type WorkerData, type WorkerRequest, type WorkerState } from './worker.js';

export function defaultJobs(): number {
  return Math.max(1, os.availableParallelism());
}

/** The compiled worker script; absent when the sources run untranspiled (tests), where the pool runs inline. */
const WORKER_URL = new URL('./worker.js', import.meta.url);
const HAS_WORKER_SCRIPT = fs.existsSync(WORKER_URL);

interface Waiter {
  resolve: (r: unknown) => void;
  reject: (e: Error) => void;
}

export class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: ({ id: number; req: WorkerRequest } & Waiter)[] = [];
  private readonly pending = new Map<number, Waiter>();
  private readonly jobs: number;
  private failure: Error | null = null;
  private nextId = 0;
  /** State of the inline "worker" (jobs 1). */
  private readonly inline: WorkerState = { fetcher: null };

  constructor(
    jobs: number,
    private readonly data: WorkerData = {},
  ) {
    this.jobs = HAS_WORKER_SCRIPT ? jobs : 1;
  }

  run<T>(req: WorkerRequest): Promise<T> {
    if (this.jobs <= 1) {
      try {
        return Promise.resolve(handle(req, this.data, this.inline).result as T);
      } catch (err) {
        return Promise.reject(err as Error);
      }
    }
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, req, resolve: resolve as (r: unknown) => void, reject });
      this.pump();
    });
  }

  private spawn(): Worker {
    const w = new Worker(WORKER_URL, { workerData: this.data });
    w.on('message', (reply: { id: number; result?: unknown; error?: { message: string; code?: string } }) => {
      const p = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (p) {
        if (reply.error) p.reject(Object.assign(new Error(reply.error.message), reply.error.code === undefined ? {} : { code: reply.error.code }));
        else p.resolve(reply.result);
      }
      this.idle.push(w);
      this.pump();
    });
    // A dead worker fails every request still waiting, so no caller hangs.
    const fail = (err: Error): void => {
      this.failure ??= err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      for (const q of this.queue.splice(0)) q.reject(err);
    };
    w.on('error', fail);
    w.on('exit', (code) => {
      if (code !== 0 && this.pending.size > 0) fail(new Error(`worker thread exited with code ${code}`));
    });
    this.workers.push(w);
    return w;
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const w = this.idle.pop() ?? (this.workers.length < this.jobs ? this.spawn() : undefined);
      if (w === undefined) return;
      const item = this.queue.shift()!;
      this.pending.set(item.id, { resolve: item.resolve, reject: item.reject });
      w.ref();
      w.postMessage({ id: item.id, req: item.req });
    }
    // Idle workers must not keep the process alive.
    for (const w of this.idle) w.unref();
  }

  async close(): Promise<void> {
    this.inline.fetcher?.close();
    this.inline.fetcher = null;
    this.queue.length = 0;
    // A worker that failed while starting (for instance out of file descriptors) may never
    // settle terminate(): do not wait for it forever, or the process ends with nothing said.
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, 2000).unref());
    await Promise.race([Promise.allSettled(this.workers.map((w) => w.terminate())), timeout]);
    this.workers.length = 0;
    this.idle.length = 0;
  }
}
