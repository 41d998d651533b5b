/** Worker thread: reads one chunk of a data file and indexes it (see core/chunk.ts). */
import fs from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { indexChunk, type ChunkResult, type ChunkRules } from '../core/chunk.js';

export interface ChunkTask {
  id: number;
  readPath: string;
  start: number;
  end: number;
  rules: ChunkRules;
}

export type ChunkReply = { id: number; result: ChunkResult } | { id: number; error: { code?: string; message: string } };

/** Reads bytes [start, end) of a file. */
export function readRange(readPath: string, start: number, end: number): Buffer {
  const buf = Buffer.allocUnsafe(end - start);
  const fd = fs.openSync(readPath, 'r');
  try {
    let got = 0;
    while (got < buf.length) {
      const n = fs.readSync(fd, buf, got, buf.length - got, start + got);
      if (n === 0) break;
      got += n;
    }
    return got === buf.length ? buf : buf.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}

export function runChunk(task: ChunkTask): ChunkResult {
  return indexChunk(readRange(task.readPath, task.start, task.end), task.start, task.rules);
}

parentPort?.on('message', (task: ChunkTask) => {
  let reply: ChunkReply;
  const transfer: ArrayBuffer[] = [];
  try {
    const result = runChunk(task);
    reply = { id: task.id, result };
    for (const a of [result.offsets, result.lengths, result.relLines, result.flags, result.cuts]) {
      if (a) transfer.push(a.buffer as ArrayBuffer);
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    reply = { id: task.id, error: e.code === undefined ? { message: e.message } : { code: e.code, message: e.message } };
  }
  parentPort?.postMessage(reply, transfer);
});
