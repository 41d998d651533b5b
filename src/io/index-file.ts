/**
 * Load/index: reads one data file once, checks every record against the field table, and keeps
 * only references to the records (byte offset, length, line) in typed arrays. Memory grows by a
 * fixed few bytes per record, never with record size.
 *
 * Plain JSON Lines are indexed in place. A gzip file is first decompressed into the run's scratch
 * directory, and a `.json` file holding one JSON array is rewritten there as JSON Lines (each
 * element keeps the line it started on in the original file), so the writer can always fetch a
 * record by (file, offset, length).
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import { isUtf8 } from 'node:buffer';
import { pipeline } from 'node:stream/promises';
import { SamebatchError, type ErrorCode } from '../errors.js';
import { splitJsonArray } from '../core/json-array.js';
import { checkRecord, isViolation, type RecordFacts, type RecordRules } from '../core/record.js';
import type { DataFile, FileIndex, InvalidRecords } from '../types.js';
import type { WorkDir } from './work-dir.js';

const CHUNK = 1 << 20;
/** Let signal handlers run every this many bytes of a long file. */
const YIELD_EVERY = 64 << 20;
export const INVALID_EXAMPLES_KEPT = 5;

export interface IndexRules extends RecordRules {
  skipInvalid: boolean;
  signal?: AbortSignal | undefined;
}

class Growable {
  offsets = new Float64Array(1024);
  lengths = new Uint32Array(1024);
  lines = new Uint32Array(1024);
  flags = new Uint8Array(1024);
  n = 0;

  push(offset: number, length: number, line: number, flag: number): void {
    if (this.n === this.offsets.length) {
      const cap = this.n * 2;
      const o = new Float64Array(cap);
      o.set(this.offsets);
      this.offsets = o;
      const l = new Uint32Array(cap);
      l.set(this.lengths);
      this.lengths = l;
      const ln = new Uint32Array(cap);
      ln.set(this.lines);
      this.lines = ln;
      const f = new Uint8Array(cap);
      f.set(this.flags);
      this.flags = f;
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

/** Byte index of the first invalid UTF-8 sequence, or -1. */
export function firstInvalidUtf8(buf: Uint8Array): number {
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
 * 0-based character position where JSON.parse failed. V8 states it for most faults; for
 * "Unexpected token 'X'" it does not, and the token is the first X outside a string.
 */
export function jsonErrorPosition(message: string, text: string): number {
  const m = /at position (\d+)/.exec(message);
  if (m && m[1] !== undefined) return Number(m[1]);
  const t = /^Unexpected token '(.)'/su.exec(message);
  if (t && t[1] !== undefined) {
    let inString = false;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (inString) {
        if (c === '\\') i++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === t[1]) return i;
    }
  }
  return text.length;
}

/** V8's message without the echo of the whole input or the position (given separately). */
export function jsonProblem(message: string): string {
  return message.replace(/, ".*" is not valid JSON$/su, '').replace(/ in JSON at position \d+.*$/su, '');
}

/** Line and column of character `pos` of `text`, counted from (line, column) of text[0]. */
function advance(text: string, pos: number, line: number, column: number): { line: number; column: number } {
  for (let i = 0; i < pos && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      column = 1;
    } else column++;
  }
  return { line, column };
}

const GZIP = /\.gz$/;

function openError(file: DataFile, err: unknown, verb: string): SamebatchError {
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  return new SamebatchError('E_READ', `${file.path}: cannot ${verb} data file (${code})`, { location: { file: file.path }, cause: err });
}

/** Collects the records of one file: checks each, keeps references, counts or throws faults. */
class Collector {
  readonly out = new Growable();
  type: string | null | undefined;
  batchSizeField: number | null | undefined;
  firstLine = 0;
  readonly invalid: InvalidRecords = { count: 0, codes: {}, first: [] };

  constructor(
    private readonly file: DataFile,
    private readonly rules: IndexRules,
  ) {}

  /** A fault in one record: skipped and counted under --skip-invalid, else the run stops. */
  fault(code: ErrorCode, message: string, line: number, column?: number): void {
    if (!this.rules.skipInvalid) {
      throw new SamebatchError(code, message, { location: column === undefined ? { file: this.file.path, line } : { file: this.file.path, line, column } });
    }
    this.invalid.count++;
    this.invalid.codes[code] = (this.invalid.codes[code] ?? 0) + 1;
    if (this.invalid.first.length < INVALID_EXAMPLES_KEPT) this.invalid.first.push(message);
  }

  /** Parses and checks one record's text; returns its facts, or null when it was skipped. */
  check(text: string, line: number, column: number): RecordFacts | null {
    const path = this.file.path;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      const message = (err as Error).message;
      const at = advance(text, jsonErrorPosition(message, text), line, column);
      this.fault('E_JSON', `${path}:${at.line}:${at.column}: malformed JSON: ${jsonProblem(message)}`, at.line, at.column);
      return null;
    }
    const facts = checkRecord(value, this.rules);
    if (isViolation(facts)) {
      this.fault(facts.code, `${path}:${line}: field "${facts.field}" ${facts.rule}, got ${facts.found}`, line);
      return null;
    }
    // One batch must be one type, and a dataset has one batch size: both hold for the whole file.
    if (this.type === undefined) {
      this.type = facts.type;
      this.batchSizeField = facts.batchSize;
      this.firstLine = line;
    } else if (facts.type !== this.type) {
      throw new SamebatchError(
        'E_TYPE_MIXED',
        `${path}:${line}: field "type" must be the same in every record of a data file (line ${this.firstLine} has ${JSON.stringify(this.type)}), got ${JSON.stringify(facts.type)}`,
        { location: { file: path, line } },
      );
    } else if (facts.batchSize !== this.batchSizeField) {
      throw new SamebatchError(
        'E_BATCH_SIZE',
        `${path}:${line}: field "batch_size" must be the same in every record of a data file (line ${this.firstLine} has ${JSON.stringify(this.batchSizeField)}), got ${JSON.stringify(facts.batchSize)}`,
        { location: { file: path, line } },
      );
    }
    return facts;
  }

  result(readPath: string, bytes: number): FileIndex {
    const n = this.out.n;
    return {
      file: this.file,
      readPath,
      bytes,
      records: n,
      offsets: this.out.offsets.slice(0, n),
      lengths: this.out.lengths.slice(0, n),
      lines: this.out.lines.slice(0, n),
      flags: this.out.flags.slice(0, n),
      type: this.type ?? null,
      batchSizeField: this.batchSizeField ?? null,
      invalid: this.invalid,
    };
  }
}

async function gunzipTo(file: DataFile, target: string): Promise<void> {
  try {
    await pipeline(fs.createReadStream(file.absPath), zlib.createGunzip({ chunkSize: CHUNK }), fs.createWriteStream(target));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code.startsWith('Z_') || code === 'ERR_ZLIB_INITIALIZATION_FAILED') {
      throw new SamebatchError('E_GZIP', `${file.path}: not a valid gzip file (${(err as Error).message})`, { location: { file: file.path }, cause: err });
    }
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      throw new SamebatchError('E_WRITE', `${target}: no space left to decompress ${file.path} (${code})`, { cause: err });
    }
    throw openError(file, err, 'read');
  }
}

/** First byte that is not white space or a byte-order mark, or -1 for an empty file. */
function firstSignificantByte(readPath: string, file: DataFile): number {
  const fd = fs.openSync(readPath, 'r');
  try {
    const buf = Buffer.alloc(4096);
    let pos = 0;
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) return -1;
      for (let i = 0; i < n; i++) {
        if (pos + i < 3 && [0xef, 0xbb, 0xbf][pos + i] === buf[i]) continue;
        if (!isSpace(buf[i] as number)) return buf[i] as number;
      }
      pos += n;
    }
  } catch (err) {
    throw openError(file, err, 'read');
  } finally {
    fs.closeSync(fd);
  }
}

export async function indexFile(file: DataFile, rules: IndexRules, work: WorkDir): Promise<FileIndex> {
  let readPath = file.absPath;
  try {
    fs.accessSync(readPath, fs.constants.R_OK);
  } catch (err) {
    throw openError(file, err, 'open');
  }
  if (GZIP.test(file.absPath)) {
    readPath = work.newFile(`${file.id}.jsonl`);
    await gunzipTo(file, readPath);
  }
  const isJsonName = /\.json(\.gz)?$/.test(file.absPath);
  if (isJsonName && firstSignificantByte(readPath, file) === 0x5b /* [ */) {
    return indexJsonArray(file, readPath, rules, work);
  }
  return indexJsonLines(file, readPath, rules);
}

async function indexJsonLines(file: DataFile, readPath: string, rules: IndexRules): Promise<FileIndex> {
  let fd: number;
  try {
    fd = fs.openSync(readPath, 'r');
  } catch (err) {
    throw openError(file, err, 'open');
  }
  const c = new Collector(file, rules);
  let lineNo = 0;
  let fileOffset = 0; // file position of buf[0]
  let buf = Buffer.alloc(CHUNK);
  let filled = 0;
  let eof = false;
  let sinceYield = 0;

  const handleLine = (start: number, end: number): void => {
    lineNo++;
    let s = start;
    let e = end;
    if (fileOffset + s === 0 && e - s >= 3 && buf[s] === 0xef && buf[s + 1] === 0xbb && buf[s + 2] === 0xbf) s += 3;
    while (s < e && isSpace(buf[s] as number)) s++;
    while (e > s && isSpace(buf[e - 1] as number)) e--;
    if (s === e) return;
    const bytes = buf.subarray(s, e);
    if (!isUtf8(bytes)) {
      const at = firstInvalidUtf8(bytes);
      const column = bytes.subarray(0, at).toString('utf8').length + 1 + (s - start);
      c.fault('E_UTF8', `${file.path}:${lineNo}:${column}: invalid UTF-8 (byte 0x${(bytes[at] ?? 0).toString(16)})`, lineNo, column);
      return;
    }
    const facts = c.check(bytes.toString('utf8'), lineNo, 1 + (s - start));
    if (facts !== null) c.out.push(fileOffset + s, e - s, lineNo, facts.flags);
  };

  try {
    while (!eof) {
      if (rules.signal?.aborted) throw rules.signal.reason;
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
        throw openError(file, err, 'read');
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
      sinceYield += n;
      if (sinceYield >= YIELD_EVERY) {
        sinceYield = 0;
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return c.result(readPath, fileOffset + filled);
}

/**
 * A `.json` file holding one JSON array. The whole file is read into memory (an array cannot be
 * indexed in place); each element is parsed on its own so its faults carry the original line
 * and column, and is written as one line of JSON to the scratch directory.
 */
function indexJsonArray(file: DataFile, readPath: string, rules: IndexRules, work: WorkDir): FileIndex {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(readPath);
  } catch (err) {
    throw openError(file, err, 'read');
  }
  const bytes = raw.length;
  if (!isUtf8(raw)) {
    const at = firstInvalidUtf8(raw);
    const before = raw.subarray(0, at).toString('utf8');
    const pos = advance(before, before.length, 1, 1);
    throw new SamebatchError('E_UTF8', `${file.path}:${pos.line}:${pos.column}: invalid UTF-8 (byte 0x${(raw[at] ?? 0).toString(16)})`, {
      location: { file: file.path, line: pos.line, column: pos.column },
    });
  }
  let text = raw.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = ` ${text.slice(1)}`;
  const elements = splitJsonArray(text);
  if ('error' in elements) {
    throw new SamebatchError('E_JSON', `${file.path}:${elements.line}:${elements.column}: malformed JSON array: ${elements.error}`, {
      location: { file: file.path, line: elements.line, column: elements.column },
    });
  }
  const c = new Collector(file, rules);
  const target = work.newFile(`${file.id}.jsonl`);
  const parts: Buffer[] = [];
  let offset = 0;
  for (const el of elements) {
    const facts = c.check(text.slice(el.start, el.end), el.line, el.column);
    if (facts === null) continue;
    // Re-serialised so that a record is one line; its line number stays the original one.
    const line = Buffer.from(JSON.stringify(JSON.parse(text.slice(el.start, el.end))), 'utf8');
    c.out.push(offset, line.length, el.line, facts.flags);
    parts.push(line, NEWLINE);
    offset += line.length + 1;
  }
  try {
    fs.writeFileSync(target, Buffer.concat(parts));
  } catch (err) {
    throw new SamebatchError('E_WRITE', `${target}: cannot write scratch copy of ${file.path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
  }
  return c.result(target, bytes);
}

const NEWLINE = Buffer.from('\n');
