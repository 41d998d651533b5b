import fs from 'node:fs';
import type { ChunkRules } from '../core/chunk.js';

export interface ChunkTask {
  readPath: string;
  start: number;
  end: number;
  rules: ChunkRules;
}

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
