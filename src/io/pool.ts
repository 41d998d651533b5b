/**
 * Runs chunk tasks on `jobs` worker threads, or inline when jobs is 1. Results are returned per
 * task, so callers merge them in file order whatever order the workers finish in.
 */
import fs from 'node:fs';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ChunkResult } from '../core/chunk.js';
import { runChunk, type ChunkReply, type ChunkTask } from './index-worker.js';

export function defaultJobs(): number {
  return Math.max(1, os.availableParallelism());
}

/** The compiled worker script; absent when the sources run untranspiled (tests), where the pool runs inline. */
const WORKER_URL = new URL('./index-worker.js', import.meta.url);
const HAS_WORKER_SCRIPT = fs.existsSync(WORKER_URL);

export class ChunkPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: { task: ChunkTask; resolve: (r: ChunkResult) => void; reject: (e: Error) => void }[] = [];
  private readonly pending = new Map<number, { resolve: (r: ChunkResult) => void; reject: (e: Error) => void }>();
  private nextId = 0;

  private readonly jobs: number;
  private failure: Error | null = null;

  constructor(jobs: number) {
    this.jobs = HAS_WORKER_SCRIPT ? jobs : 1;
  }

  run(task: Omit<ChunkTask, 'id'>): Promise<ChunkResult> {
    const full: ChunkTask = { ...task, id: this.nextId++ };
    if (this.jobs <= 1) {
      try {
        return Promise.resolve(runChunk(full));
      } catch (err) {
        return Promise.reject(err as Error);
      }
    }
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ task: full, resolve, reject });
      this.pump();
    });
  }

  private spawn(): Worker {
    const w = new Worker(WORKER_URL);
    w.on('message', (reply: ChunkReply) => {
      const p = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (p) {
        if ('result' in reply) p.resolve(reply.result);
        else p.reject(Object.assign(new Error(reply.error.message), reply.error.code === undefined ? {} : { code: reply.error.code }));
      }
      this.idle.push(w);
      this.pump();
    });
    // A dead worker fails every task still waiting, so no caller hangs.
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
    w.unref();
    this.workers.push(w);
    return w;
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const w = this.idle.pop() ?? (this.workers.length < this.jobs ? this.spawn() : undefined);
      if (w === undefined) return;
      const item = this.queue.shift()!;
      this.pending.set(item.task.id, { resolve: item.resolve, reject: item.reject });
      w.ref();
      w.postMessage(item.task);
    }
    // Idle workers must not keep the process alive.
    if (this.pending.size === 0) for (const w of this.workers) w.unref();
  }

  async close(): Promise<void> {
    this.queue.length = 0;
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
    this.idle.length = 0;
  }
}
