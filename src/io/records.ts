/**
 * Materialisation: fetches records by reference (file, offset, length) and assembles batch
 * lines. Records are copied byte for byte; teacher scores to drop are cut out as byte ranges.
 * The same code runs inline (--jobs 1) and in worker threads, so the bytes never depend on
 * --jobs.
 */
import fs from 'node:fs';
import { RAW_TAIL, flagPayload } from '../core/batch-line.js';
import { flagBatch, groupSizeOf, type FlagOptions, type FlagRecord } from '../core/flag-format.js';
import { SCORE_KEYS } from '../core/chunk.js';
import { applyCuts, memberCuts } from '../core/json-members.js';
import { RECORD_HAS_SCORES } from '../types.js';

/** Data files open at once across all threads; each thread gets its share (at least 4). */
export const OPEN_FILES_BUDGET = 256;

/** Reads byte ranges of the run's data files, keeping a bounded number of them open. */
export class RecordFetcher {
  private readonly fds = new Map<number, number>();

  constructor(
    private readonly readPaths: readonly string[],
    private readonly maxOpen = 64,
  ) {}

  private fd(file: number): number {
    const open = this.fds.get(file);
    if (open !== undefined) {
      // Refresh its place in the LRU order.
      this.fds.delete(file);
      this.fds.set(file, open);
      return open;
    }
    if (this.fds.size >= this.maxOpen) {
      const [oldest, oldFd] = this.fds.entries().next().value as [number, number];
      fs.closeSync(oldFd);
      this.fds.delete(oldest);
    }
    const fd = fs.openSync(this.readPaths[file] as string, 'r');
    this.fds.set(file, fd);
    return fd;
  }

  read(file: number, offset: number, length: number): Buffer {
    const buf = Buffer.allocUnsafe(length);
    const fd = this.fd(file);
    let got = 0;
    while (got < length) {
      const n = fs.readSync(fd, buf, got, length - got, offset + got);
      if (n === 0) throw Object.assign(new Error(`${this.readPaths[file]}: data file is shorter than when it was indexed (changed during the run?)`), { code: 'ESHORT' });
      got += n;
    }
    return buf;
  }

  close(): void {
    for (const fd of this.fds.values()) fs.closeSync(fd);
    this.fds.clear();
  }
}

/**
 * Batch lines to assemble. Per output line its head (metadata up to the payload); per batch its
 * epoch and example count; per example its reference. A batch gives `linesPerBatch` lines: one
 * for the global batch, or one per rank slice.
 */
export interface AssembleTask {
  format: 'raw' | 'flag';
  heads: string[];
  linesPerBatch: number;
  epochs: Uint32Array;
  counts: Uint32Array;
  files: Uint32Array;
  records: Uint32Array;
  offsets: Float64Array;
  lengths: Uint32Array;
  flags: Uint8Array;
}

export interface AssembleContext {
  fetcher: RecordFetcher;
  /** Stream key of each data file (flag format draws). */
  fileKeys: readonly string[];
  flag: FlagOptions | null;
}

export interface Assembled {
  /** All lines of the task, back to back. */
  data: Uint8Array;
  lineLengths: Uint32Array;
}

const COMMA = Buffer.from(',');
const RAW_TAIL_BYTES = Buffer.from(RAW_TAIL);

/**
 * A record as it goes into a raw line: its own bytes, less teacher scores without
 * --knowledge-distillation, cut out as byte ranges (found here, in the writer threads, rather
 * than held per record since indexing).
 */
function rawRecord(buf: Buffer, t: AssembleTask, i: number): Buffer {
  if (((t.flags[i] as number) & RECORD_HAS_SCORES) === 0) return buf;
  return applyCuts(buf, memberCuts(buf, SCORE_KEYS));
}

export function assemble(t: AssembleTask, ctx: AssembleContext): Assembled {
  const parts: Buffer[] = [];
  const lineLengths = new Uint32Array(t.heads.length);
  let line = 0;
  let first = 0;
  for (let b = 0; b < t.counts.length; b++) {
    const n = t.counts[b] as number;
    const perLine = n / t.linesPerBatch;
    const bufs: Buffer[] = [];
    for (let i = first; i < first + n; i++) bufs.push(ctx.fetcher.read(t.files[i] as number, t.offsets[i] as number, t.lengths[i] as number));
    if (t.format === 'raw') {
      for (let l = 0; l < t.linesPerBatch; l++, line++) {
        const head = Buffer.from(t.heads[line] as string);
        parts.push(head);
        let len = head.length + RAW_TAIL_BYTES.length;
        for (let k = 0; k < perLine; k++) {
          if (k > 0) {
            parts.push(COMMA);
            len++;
          }
          const rec = rawRecord(bufs[l * perLine + k] as Buffer, t, first + l * perLine + k);
          parts.push(rec);
          len += rec.length;
        }
        parts.push(RAW_TAIL_BYTES);
        lineLengths[line] = len;
      }
    } else {
      const flag = ctx.flag as FlagOptions;
      const parsed = bufs.map((x) => JSON.parse(x.toString('utf8')) as FlagRecord);
      const keys = parsed.map((_, k) => `${ctx.fileKeys[t.files[first + k] as number]}#${t.records[first + k]}`);
      // One passages-per-query for the whole step, from the global batch's first record.
      const groupSize = groupSizeOf(parsed[0] as FlagRecord, flag);
      for (let l = 0; l < t.linesPerBatch; l++, line++) {
        const slice = flagBatch(parsed.slice(l * perLine, (l + 1) * perLine), keys.slice(l * perLine, (l + 1) * perLine), groupSize, t.epochs[b] as number, flag);
        const text = Buffer.from(`${t.heads[line] as string}${flagPayload(slice)}`);
        parts.push(text);
        lineLengths[line] = text.length;
      }
    }
    first += n;
  }
  const data = Buffer.concat(parts);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), lineLengths };
}
