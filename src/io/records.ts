/**
 * Materialisation: fetches a record's bytes by reference at write time. Records that keep their
 * content are copied byte for byte; only records whose teacher scores must go are re-serialised.
 */
import fs from 'node:fs';
import { SamebatchError } from '../errors.js';
import { applyCuts } from '../core/json-members.js';
import { stripScores } from '../core/record.js';
import { RECORD_HAS_SCORES, RECORD_REWRITE, type FileIndex } from '../types.js';

const MAX_OPEN = 128;

export class RecordReader {
  private readonly fds = new Map<number, number>();

  constructor(private readonly indexes: readonly FileIndex[]) {}

  private fd(fileIndex: number): number {
    const open = this.fds.get(fileIndex);
    if (open !== undefined) {
      // Refresh its place in the LRU order.
      this.fds.delete(fileIndex);
      this.fds.set(fileIndex, open);
      return open;
    }
    if (this.fds.size >= MAX_OPEN) {
      const [oldest, oldFd] = this.fds.entries().next().value as [number, number];
      fs.closeSync(oldFd);
      this.fds.delete(oldest);
    }
    const ix = this.indexes[fileIndex] as FileIndex;
    let fd: number;
    try {
      fd = fs.openSync(ix.readPath, 'r');
    } catch (err) {
      throw new SamebatchError('E_READ', `${ix.file.path}: cannot reopen data file (${(err as NodeJS.ErrnoException).code ?? 'error'})`, {
        location: { file: ix.file.path },
        cause: err,
      });
    }
    this.fds.set(fileIndex, fd);
    return fd;
  }

  /** The bytes of record `r` of file `fileIndex`, as they go into a batch line. */
  read(fileIndex: number, r: number): Buffer {
    const ix = this.indexes[fileIndex] as FileIndex;
    const length = ix.lengths[r] as number;
    const offset = ix.offsets[r] as number;
    const buf = Buffer.allocUnsafe(length);
    const fd = this.fd(fileIndex);
    let got = 0;
    while (got < length) {
      const n = fs.readSync(fd, buf, got, length - got, offset + got);
      if (n === 0) {
        throw new SamebatchError('E_READ', `${ix.file.path}:${ix.lines[r]}: data file changed while samebatch was running (it is shorter now)`, {
          location: { file: ix.file.path, line: ix.lines[r] as number },
        });
      }
      got += n;
    }
    const flags = ix.flags[r] as number;
    if ((flags & RECORD_HAS_SCORES) === 0) return buf;
    if (flags & RECORD_REWRITE || ix.cuts === null) {
      return Buffer.from(JSON.stringify(stripScores(JSON.parse(buf.toString('utf8')) as Record<string, unknown>)), 'utf8');
    }
    // Teacher scores leave as one cut; every other byte of the record is kept.
    return applyCuts(buf, [ix.cuts[2 * r] as number, ix.cuts[2 * r + 1] as number]);
  }

  close(): void {
    for (const fd of this.fds.values()) fs.closeSync(fd);
    this.fds.clear();
  }
}
