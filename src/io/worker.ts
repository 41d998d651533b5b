/**
 * Worker thread: indexes chunks of data files (core/chunk.ts) and assembles batch lines
 * (io/records.ts). The main thread merges and writes the results in order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { indexChunk } from '../core/chunk.js';
import type { FlagOptions } from '../core/flag-format.js';
import { readRange, type ChunkTask } from './read-range.js';
import { assemble, RecordFetcher, type AssembleTask } from './records.js';

export type WorkerRequest = ({ kind: 'chunk' } & ChunkTask) | ({ kind: 'assemble' } & AssembleTask);

export interface WorkerData {
  readPaths?: string[];
  fileKeys?: string[];
  flag?: FlagOptions | null;
  /** Data files this thread may keep open. */
  maxOpen?: number;
}

/** What a thread keeps between requests: its open data files. */
export interface WorkerState {
  fetcher: RecordFetcher | null;
}

const state: WorkerState = { fetcher: null };

export function handle(req: WorkerRequest, data: WorkerData, st: WorkerState): { result: unknown; transfer: ArrayBuffer[] } {
  if (req.kind === 'chunk') {
    const r = indexChunk(readRange(req.readPath, req.start, req.end), req.start, req.rules);
    const transfer = [r.offsets, r.lengths, r.relLines, r.flags].map((a) => a.buffer as ArrayBuffer);
    return { result: r, transfer };
  }
  st.fetcher ??= new RecordFetcher(data.readPaths ?? [], data.maxOpen);
  const r = assemble(req, { fetcher: st.fetcher, fileKeys: data.fileKeys ?? [], flag: data.flag ?? null });
  return { result: r, transfer: [r.data.buffer as ArrayBuffer, r.lineLengths.buffer as ArrayBuffer] };
}

parentPort?.on('message', (msg: { id: number; req: WorkerRequest }) => {
  try {
    const { result, transfer } = handle(msg.req, (workerData ?? {}) as WorkerData, state);
    parentPort?.postMessage({ id: msg.id, result }, transfer);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    parentPort?.postMessage({ id: msg.id, error: { message: e.message, ...(e.code === undefined ? {} : { code: e.code }) } });
  }
});
