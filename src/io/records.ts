/**
 * Materialisation: fetches records by reference (file, offset, length) and assembles batch
 * lines. Records that keep their content are copied byte for byte; teacher scores leave as one
 * cut byte range, and only a record whose scores are not contiguous is re-serialised. The same
 * code runs inline (--jobs 1) and in worker threads, so the bytes never depend on --jobs.
 */
import fs from 'node:fs';
import { applyCuts } from '../core/json-members.js';
import { stripScores } from '../core/record.js';
import { RECORD_HAS_SCORES, RECORD_REWRITE } from '../types.js';

const MAX_OPEN = 128;

/** Reads byte ranges of the run's data files, keeping a bounded number of them open. */
export class RecordFetcher {
  private readonly fds = new Map<number, number>();

  constructor(private readonly readPaths: readonly string[]) {}

  private fd(file: number): number {
    const open = this.fds.get(file);
    if (open !== undefined) {
      // Refresh its place in the LRU order.
      this.fds.delete(file);
      this.fds.set(file, open);
      return open;
    }
    if (this.fds.size >= MAX_OPEN) {
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

/** Batch lines to assemble: per batch the text around its examples, per example its reference. */
export interface AssembleTask {
  heads: string[];
  tail: string;
  /** Examples per batch; the per-example arrays below hold them batch after batch. */
  counts: Uint32Array;
  files: Uint32Array;
  offsets: Float64Array;
  lengths: Uint32Array;
  flags: Uint8Array;
  /** Two per example: the byte range of teacher scores to cut, relative to the record. */
  cuts: Uint32Array;
}

export interface Assembled {
  /** All lines of the task, back to back. */
  data: Uint8Array;
  lineLengths: Uint32Array;
}

const COMMA = Buffer.from(',');

function recordBytes(fetcher: RecordFetcher, t: AssembleTask, i: number): Buffer {
  const buf = fetcher.read(t.files[i] as number, t.offsets[i] as number, t.lengths[i] as number);
  const flags = t.flags[i] as number;
  if ((flags & RECORD_HAS_SCORES) === 0) return buf;
  if (flags & RECORD_REWRITE) {
    return Buffer.from(JSON.stringify(stripScores(JSON.parse(buf.toString('utf8')) as Record<string, unknown>)), 'utf8');
  }
  return applyCuts(buf, [t.cuts[2 * i] as number, t.cuts[2 * i + 1] as number]);
}

export function assemble(t: AssembleTask, fetcher: RecordFetcher): Assembled {
  const parts: Buffer[] = [];
  const tail = Buffer.from(t.tail);
  const lineLengths = new Uint32Array(t.counts.length);
  let i = 0;
  let total = 0;
  for (let b = 0; b < t.counts.length; b++) {
    const head = Buffer.from(t.heads[b] as string);
    let len = head.length + tail.length;
    parts.push(head);
    const n = t.counts[b] as number;
    for (let k = 0; k < n; k++, i++) {
      if (k > 0) {
        parts.push(COMMA);
        len++;
      }
      const rec = recordBytes(fetcher, t, i);
      parts.push(rec);
      len += rec.length;
    }
    parts.push(tail);
    lineLengths[b] = len;
    total += len;
  }
  const data = Buffer.concat(parts, total);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), lineLengths };
}
