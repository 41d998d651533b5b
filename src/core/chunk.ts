/**
 * Indexing one chunk of a JSON Lines file: a run of whole lines. Pure (bytes in, references and
 * facts out), so the same function runs inline or in a worker thread, and the merge of chunk
 * results in file order makes the outcome independent of how many run at once.
 */
import { isUtf8 } from 'node:buffer';
import { SamebatchError, type ErrorCode } from '../errors.js';
import type { FileIndex, InvalidRecords } from '../types.js';
import { checkRecord, isViolation, type RecordFacts, type RecordRules } from './record.js';


export const SCORE_KEYS: ReadonlySet<string> = new Set(['pos_scores', 'neg_scores']);
export const INVALID_EXAMPLES_KEPT = 5;

/** A fault in one record, located relative to its chunk; the file path is added on merge. */
export interface ChunkFault {
  code: ErrorCode;
  relLine: number;
  column?: number;
  /** The message after "path:line[:column]: ". */
  text: string;
}

export interface FirstFacts {
  relLine: number;
  type: string | null;
  batchSize: number | null;
}

export interface ChunkResult {
  records: number;
  offsets: Float64Array;
  lengths: Uint32Array;
  relLines: Uint32Array;
  flags: Uint8Array;
  /** Lines in the chunk (a final line without "\n" counts). */
  lines: number;
  first: FirstFacts | null;
  /** The first record whose type or batch_size differs from the chunk's first record. */
  deviation: FirstFacts | null;
  /** Line of the first record with an empty `neg` (0: none), and whether any record has negatives. */
  emptyNegRelLine: number;
  anyNegatives: boolean;
  /** Largest `train_group_size` field (0: none), and whether some record has no such field. */
  maxGroupSizeField: number;
  anyWithoutGroupSize: boolean;
  invalid: number;
  invalidCodes: Record<string, number>;
  /** Without skipInvalid: the one fault that stopped the chunk. With it: the first few. */
  faults: ChunkFault[];
}

export interface ChunkRules extends RecordRules {
  skipInvalid: boolean;
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
  return message
    .replace(/, (\.\.\.)?".*"(\.\.\.)? is not valid JSON$/su, '')
    .replace(/ in JSON at position \d+.*$/su, '')
    .replace(/ at position \d+.*$/su, '');
}

/** Line and column of character `pos` of `text`, counted from (line, column) of text[0]. */
export function advance(text: string, pos: number, line: number, column: number): { line: number; column: number } {
  for (let i = 0; i < pos && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      column = 1;
    } else column++;
  }
  return { line, column };
}

export type Checked = { facts: RecordFacts; value: Record<string, unknown> } | { fault: ChunkFault };

/** Parses and checks the text of one record that starts at (line, column). */
export function checkRecordText(text: string, line: number, column: number, rules: RecordRules): Checked {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const at = advance(text, jsonErrorPosition(message, text), line, column);
    return { fault: { code: 'E_JSON', relLine: at.line, column: at.column, text: `malformed JSON: ${jsonProblem(message)}` } };
  }
  const facts = checkRecord(value, rules);
  if (isViolation(facts)) {
    // A record that is not an object has no fields to name.
    const what = facts.field === '(record)' ? facts.rule : `field "${facts.field}" ${facts.rule}`;
    return { fault: { code: facts.code, relLine: line, text: `${what}, got ${facts.found}` } };
  }
  return { facts, value: value as Record<string, unknown> };
}

class Out {
  offsets: Float64Array;
  lengths: Uint32Array;
  relLines: Uint32Array;
  flags: Uint8Array;
  n = 0;

  constructor(private cap: number) {
    this.offsets = new Float64Array(cap);
    this.lengths = new Uint32Array(cap);
    this.relLines = new Uint32Array(cap);
    this.flags = new Uint8Array(cap);
  }

  private grow(): void {
    this.cap *= 2;
    const o = new Float64Array(this.cap);
    o.set(this.offsets);
    this.offsets = o;
    const l = new Uint32Array(this.cap);
    l.set(this.lengths);
    this.lengths = l;
    const r = new Uint32Array(this.cap);
    r.set(this.relLines);
    this.relLines = r;
    const f = new Uint8Array(this.cap);
    f.set(this.flags);
    this.flags = f;
  }

  push(offset: number, length: number, relLine: number, flags: number): void {
    if (this.n === this.cap) this.grow();
    this.offsets[this.n] = offset;
    this.lengths[this.n] = length;
    this.relLines[this.n] = relLine;
    this.flags[this.n] = flags;
    this.n++;
  }
}

/**
 * Collects the records of one chunk in line order: checks each, keeps its reference, notes the
 * chunk's first facts and the first record that deviates from them, and counts faults.
 * Returns false from `add`/`fault` when the chunk should stop (a fault without skipInvalid, or
 * a whole-file deviation).
 */
export class ChunkBuilder {
  private readonly out: Out;
  // ignoreBOM: a byte-order mark is only skipped at the start of a file (by indexChunk); one
  // inside a file stays in the text, and JSON.parse reports it.
  private readonly decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  private readonly r: Omit<ChunkResult, 'records' | 'offsets' | 'lengths' | 'relLines' | 'flags'> = {
    lines: 0,
    first: null,
    deviation: null,
    emptyNegRelLine: 0,
    anyNegatives: false,
    maxGroupSizeField: 0,
    anyWithoutGroupSize: false,
    invalid: 0,
    invalidCodes: {},
    faults: [],
  };

  constructor(
    private readonly rules: ChunkRules,
    sizeHint: number,
  ) {
    this.out = new Out(Math.max(16, sizeHint));
  }

  /** Records kept so far. */
  get count(): number {
    return this.out.n;
  }

  fault(f: ChunkFault): boolean {
    this.r.invalid++;
    this.r.invalidCodes[f.code] = (this.r.invalidCodes[f.code] ?? 0) + 1;
    if (this.r.faults.length < INVALID_EXAMPLES_KEPT) this.r.faults.push(f);
    return this.rules.skipInvalid;
  }

  /**
   * One record: `bytes` are what the writer will copy (at file offset `offset`); `text` is the
   * text to parse when it differs from `bytes` (a JSON array element), with its (line, column).
   */
  add(bytes: Uint8Array, offset: number, line: number, column: number, text?: string): boolean {
    if (text === undefined && !isUtf8(bytes)) {
      const at = firstInvalidUtf8(bytes);
      const col = this.decoder.decode(bytes.subarray(0, at)).length + column;
      return this.fault({ code: 'E_UTF8', relLine: line, column: col, text: `invalid UTF-8 (byte 0x${(bytes[at] ?? 0).toString(16)})` });
    }
    const checked = checkRecordText(text ?? this.decoder.decode(bytes), line, column, this.rules);
    if ('fault' in checked) return this.fault(checked.fault);
    const { facts } = checked;
    const r = this.r;
    if (r.first === null) r.first = { relLine: line, type: facts.type, batchSize: facts.batchSize };
    else if (facts.type !== r.first.type || facts.batchSize !== r.first.batchSize) {
      r.deviation = { relLine: line, type: facts.type, batchSize: facts.batchSize };
      return false;
    }
    if (facts.negatives === 0) {
      if (r.emptyNegRelLine === 0) r.emptyNegRelLine = line;
    } else r.anyNegatives = true;
    if (facts.trainGroupSize === null) r.anyWithoutGroupSize = true;
    else r.maxGroupSizeField = Math.max(r.maxGroupSizeField, facts.trainGroupSize);
    // Records with teacher scores to drop are only flagged; the writer cuts the scores out of
    // their bytes (no per-record cut positions held in memory).
    this.out.push(offset, bytes.length, line, facts.flags);
    return true;
  }

  result(lines: number): ChunkResult {
    const o = this.out;
    const n = o.n;
    return {
      ...this.r,
      lines,
      records: n,
      offsets: o.offsets.slice(0, n),
      lengths: o.lengths.slice(0, n),
      relLines: o.relLines.slice(0, n),
      flags: o.flags.slice(0, n),
    };
  }
}

/**
 * Indexes the whole lines in `buf`, whose first byte sits at file offset `base`. A chunk that
 * starts the file may begin with a byte-order mark.
 */
export function indexChunk(buf: Uint8Array, base: number, rules: ChunkRules): ChunkResult {
  const b = new ChunkBuilder(rules, buf.length >> 10);
  let start = 0;
  let line = 0;
  while (start < buf.length) {
    let nl = buf.indexOf(0x0a, start);
    if (nl < 0) nl = buf.length;
    line++;
    let s = start;
    let e = nl;
    start = nl + 1;
    if (base + s === 0 && e - s >= 3 && buf[s] === 0xef && buf[s + 1] === 0xbb && buf[s + 2] === 0xbf) s += 3;
    const lineStart = s;
    while (s < e && isSpace(buf[s] as number)) s++;
    while (e > s && isSpace(buf[e - 1] as number)) e--;
    if (s === e) continue;
    if (!b.add(buf.subarray(s, e), base + s, line, 1 + (s - lineStart))) break;
  }
  return b.result(line);
}

/** A file's records and facts, merged from its chunks in file order: a FileIndex without the file. */
export type MergedIndex = Omit<FileIndex, 'file' | 'readPath' | 'bytes'>;

function located(path: string, f: ChunkFault, lineBase: number): { message: string; line: number; column?: number } {
  const line = lineBase + f.relLine;
  const where = f.column === undefined ? `${path}:${line}` : `${path}:${line}:${f.column}`;
  return f.column === undefined ? { message: `${where}: ${f.text}`, line } : { message: `${where}: ${f.text}`, line, column: f.column };
}

/**
 * Merges chunk results in file order and applies the whole-file rules (one `type`, one
 * `batch_size`). Throws the first fault in file order, so the error does not depend on how the
 * file was cut into chunks or how many chunks ran at once.
 */
export function mergeChunks(path: string, chunks: readonly ChunkResult[], skipInvalid: boolean, keepLines = true): MergedIndex {
  let first: FirstFacts | null = null;
  let firstLine = 0;
  let emptyNegLine = 0;
  let anyNegatives = false;
  let maxGroupSizeField = 0;
  let anyWithoutGroupSize = false;
  let lineBase = 0;
  const invalid: InvalidRecords = { count: 0, codes: {}, first: [] };
  const mixed = (line: number, facts: FirstFacts, f: FirstFacts): SamebatchError => {
    const field = facts.type !== f.type ? 'type' : 'batch_size';
    const had = field === 'type' ? f.type : f.batchSize;
    const got = field === 'type' ? facts.type : facts.batchSize;
    return new SamebatchError(
      field === 'type' ? 'E_TYPE_MIXED' : 'E_BATCH_SIZE',
      `${path}:${line}: field "${field}" must be the same in every record of a data file (line ${firstLine} has ${JSON.stringify(had)}), got ${JSON.stringify(got)}`,
      { location: { file: path, line } },
    );
  };
  for (const c of chunks) {
    // Within a chunk the record checks and the chunk's own first/deviation come in line order;
    // compare them to find which fault comes first.
    const events: { line: number; err: () => SamebatchError }[] = [];
    if (!skipInvalid && c.faults[0]) {
      const f = located(path, c.faults[0], lineBase);
      events.push({ line: f.line, err: () => new SamebatchError(c.faults[0]!.code, f.message, { location: { file: path, line: f.line, ...(f.column === undefined ? {} : { column: f.column }) } }) });
    }
    if (c.first) {
      if (first === null) {
        first = c.first;
        firstLine = lineBase + c.first.relLine;
      } else if (c.first.type !== first.type || c.first.batchSize !== first.batchSize) {
        const cf = c.first;
        const f0 = first;
        events.push({ line: lineBase + cf.relLine, err: () => mixed(lineBase + cf.relLine, cf, f0) });
      }
    }
    if (c.deviation && first) {
      const d = c.deviation;
      const f0 = first;
      events.push({ line: lineBase + d.relLine, err: () => mixed(lineBase + d.relLine, d, f0) });
    }
    if (events.length > 0) {
      events.sort((a, b) => a.line - b.line);
      throw events[0]!.err();
    }
    if (skipInvalid && c.invalid > 0) {
      invalid.count += c.invalid;
      for (const [code, n] of Object.entries(c.invalidCodes)) invalid.codes[code] = (invalid.codes[code] ?? 0) + n;
      for (const f of c.faults) if (invalid.first.length < INVALID_EXAMPLES_KEPT) invalid.first.push(located(path, f, lineBase).message);
    }
    if (emptyNegLine === 0 && c.emptyNegRelLine > 0) emptyNegLine = lineBase + c.emptyNegRelLine;
    anyNegatives ||= c.anyNegatives;
    maxGroupSizeField = Math.max(maxGroupSizeField, c.maxGroupSizeField);
    anyWithoutGroupSize ||= c.anyWithoutGroupSize;
    lineBase += c.lines;
  }

  const n = chunks.reduce((k, c) => k + c.records, 0);
  const offsets = new Float64Array(n);
  const lengths = new Uint32Array(n);
  // Line numbers are needed only for provenance: 4 bytes a record otherwise saved.
  const lines = keepLines ? new Uint32Array(n) : null;
  const flags = new Uint8Array(n);
  let at = 0;
  let base = 0;
  for (const c of chunks) {
    offsets.set(c.offsets, at);
    lengths.set(c.lengths, at);
    flags.set(c.flags, at);
    if (lines) for (let i = 0; i < c.records; i++) lines[at + i] = base + (c.relLines[i] as number);
    at += c.records;
    base += c.lines;
  }
  const f = first as FirstFacts | null;
  return {
    records: n,
    offsets,
    lengths,
    lines,
    flags,
    type: f?.type ?? null,
    batchSizeField: f?.batchSize ?? null,
    invalid,
    emptyNegLine,
    anyNegatives,
    maxGroupSizeField,
    anyWithoutGroupSize,
  };
}
