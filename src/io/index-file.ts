/**
 * Load/index: reads one data file once, checks every record against the field table, and keeps
 * only references to the records (byte offset, length, line) in typed arrays. Memory grows by a
 * fixed few bytes per record, never with record size.
 */
import fs from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { SamebatchError } from '../errors.js';
import { checkRecord, isViolation, type RecordRules } from '../core/record.js';
import type { DataFile, FileIndex } from '../types.js';

const CHUNK = 1 << 20;

class Growable {
  offsets = new Float64Array(1024);
  lengths = new Uint32Array(1024);
  lines = new Uint32Array(1024);
  flags = new Uint8Array(1024);
  n = 0;

  push(offset: number, length: number, line: number, flag: number): void {
    if (this.n === this.offsets.length) {
      const cap = this.n * 2;
      const grow = <T extends Float64Array | Uint32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
        const b = make(cap);
        b.set(a);
        return b;
      };
      this.offsets = grow(this.offsets, (k) => new Float64Array(k));
      this.lengths = grow(this.lengths, (k) => new Uint32Array(k));
      this.lines = grow(this.lines, (k) => new Uint32Array(k));
      this.flags = grow(this.flags, (k) => new Uint8Array(k));
    }
    this.offsets[this.n] = offset;
    this.lengths[this.n] = length;
    this.lines[this.n] = line;
    this.flags[this.n] = flag;
    this.n++;
  }
}

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0d || b === 0x0a;
}

/** Byte index of the first invalid UTF-8 sequence (only called once a line failed isUtf8). */
export function firstInvalidUtf8(buf: Buffer): number {
  let i = 0;
  while (i < buf.length) {
    const b = buf[i] as number;
    const need = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (need < 0) return i;
    for (let k = 1; k <= need; k++) {
      const c = buf[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
    }
    const b1 = buf[i + 1] ?? 0;
    if ((b === 0xe0 && b1 < 0xa0) || (b === 0xed && b1 > 0x9f) || (b === 0xf0 && b1 < 0x90) || (b === 0xf4 && b1 > 0x8f)) return i;
    i += need + 1;
  }
  return -1;
}

/**
 * 1-based column where JSON.parse failed. V8 states the position for most faults; for
 * "Unexpected token 'X'" it does not, and the token is the first X outside a string.
 */
export function jsonErrorColumn(message: string, text: string): number {
  const m = /at position (\d+)/.exec(message);
  if (m && m[1] !== undefined) return Number(m[1]) + 1;
  const t = /^Unexpected token '(.)'/su.exec(message);
  if (t && t[1] !== undefined) {
    let inString = false;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (inString) {
        if (c === '\\') i++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === t[1]) return i + 1;
    }
  }
  return text.length + 1;
}

/** V8's message without the echo of the whole input. */
export function jsonProblem(message: string): string {
  return message.replace(/, ".*" is not valid JSON$/su, '').replace(/ in JSON at position \d+.*$/su, '');
}

export function indexFile(file: DataFile, rules: RecordRules): FileIndex {
  let fd: number;
  try {
    fd = fs.openSync(file.absPath, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new SamebatchError('E_READ', `${file.path}: cannot open data file (${code})`, { location: { file: file.path }, cause: err });
  }
  const out = new Growable();
  let type: string | null | undefined;
  let batchSizeField: number | null | undefined;
  let firstLine = 0;
  let lineNo = 0;
  let fileOffset = 0; // file position of buf[0]
  let buf = Buffer.alloc(CHUNK);
  let filled = 0;
  let eof = false;

  const handleLine = (start: number, end: number): void => {
    // start/end index buf; the line excludes its "\n".
    lineNo++;
    let s = start;
    let e = end;
    if (fileOffset + s === 0 && e - s >= 3 && buf[s] === 0xef && buf[s + 1] === 0xbb && buf[s + 2] === 0xbf) s += 3;
    while (s < e && isSpace(buf[s] as number)) s++;
    while (e > s && isSpace(buf[e - 1] as number)) e--;
    if (s === e) return;
    const bytes = buf.subarray(s, e);
    const where = { file: file.path, line: lineNo };
    if (!isUtf8(bytes)) {
      const at = firstInvalidUtf8(bytes);
      const column = bytes.subarray(0, at).toString('utf8').length + 1;
      throw new SamebatchError('E_JSON', `${file.path}:${lineNo}:${column}: invalid UTF-8 (byte 0x${(bytes[at] ?? 0).toString(16)})`, {
        location: { ...where, column },
      });
    }
    const text = bytes.toString('utf8');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      const message = (err as Error).message;
      const column = jsonErrorColumn(message, text);
      throw new SamebatchError('E_JSON', `${file.path}:${lineNo}:${column}: malformed JSON: ${jsonProblem(message)}`, {
        location: { ...where, column },
      });
    }
    const facts = checkRecord(value, rules);
    if (isViolation(facts)) {
      throw new SamebatchError(facts.code,
        `${file.path}:${lineNo}: field "${facts.field}" ${facts.rule}, got ${facts.found}`, { location: where });
    }
    if (type === undefined) {
      type = facts.type;
      batchSizeField = facts.batchSize;
      firstLine = lineNo;
    } else {
      if (facts.type !== type) {
        throw new SamebatchError(
          'E_TYPE_MIXED',
          `${file.path}:${lineNo}: field "type" must be the same for every record of a data file (line ${firstLine} has ${JSON.stringify(type)}), got ${JSON.stringify(facts.type)}`,
          { location: where },
        );
      }
      if (facts.batchSize !== batchSizeField) {
        throw new SamebatchError(
          'E_BATCH_SIZE',
          `${file.path}:${lineNo}: field "batch_size" must be the same for every record of a data file (line ${firstLine} has ${JSON.stringify(batchSizeField)}), got ${JSON.stringify(facts.batchSize)}`,
          { location: where },
        );
      }
    }
    out.push(fileOffset + s, e - s, lineNo, facts.flags);
  };

  try {
    while (!eof) {
      if (filled === buf.length) {
        // A line longer than the buffer: grow it.
        const bigger = Buffer.alloc(buf.length * 2);
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
      }
      let n: number;
      try {
        n = fs.readSync(fd, buf, filled, buf.length - filled, fileOffset + filled);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'error';
        throw new SamebatchError('E_READ', `${file.path}: cannot read data file (${code})`, { location: { file: file.path }, cause: err });
      }
      if (n === 0) eof = true;
      filled += n;
      let start = 0;
      const view = buf.subarray(0, filled);
      for (;;) {
        const nl = view.indexOf(0x0a, start);
        if (nl < 0) break;
        handleLine(start, nl);
        start = nl + 1;
      }
      if (eof && start < filled) {
        handleLine(start, filled);
        start = filled;
      }
      // Keep the unfinished line at the front of the buffer.
      if (start > 0) {
        buf.copy(buf, 0, start, filled);
        filled -= start;
        fileOffset += start;
      }
    }
  } finally {
    fs.closeSync(fd);
  }

  return {
    file,
    bytes: fileOffset + filled,
    records: out.n,
    offsets: out.offsets.slice(0, out.n),
    lengths: out.lengths.slice(0, out.n),
    lines: out.lines.slice(0, out.n),
    flags: out.flags.slice(0, out.n),
    type: type ?? null,
    batchSizeField: batchSizeField ?? null,
  };
}
