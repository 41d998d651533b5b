/**
 * Load/index: reads each data file once, checks every record against the field table, and keeps
 * only references to the records (byte offset, length, line) in typed arrays. Memory grows by a
 * fixed few bytes per record, never with record size.
 *
 * JSON Lines are cut into chunks of whole lines that worker threads index in parallel; the
 * chunk results are merged in file order, so the outcome does not depend on --jobs. A gzip file
 * is first decompressed (streaming) into the run's scratch directory, and a `.json` file holding
 * one JSON array is rewritten there as JSON Lines (each element keeps the line it started on in
 * the original file), so the writer can always fetch a record by (file, offset, length).
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import { isUtf8 } from 'node:buffer';
import { pipeline } from 'node:stream/promises';
import { SamebatchError } from '../errors.js';
import { advance, ChunkBuilder, firstInvalidUtf8, mergeChunks, type ChunkResult, type ChunkRules } from '../core/chunk.js';
import { splitJsonArray } from '../core/json-array.js';
import type { DataFile, FileIndex } from '../types.js';
import type { WorkerPool } from './pool.js';
import type { WorkDir } from './work-dir.js';

/** Bytes per chunk handed to one worker: large enough to amortise messaging, small enough to spread a file over cores. */
export const CHUNK_BYTES = 2 << 20;

const GZIP = /\.gz$/;

function readError(file: DataFile, err: unknown, verb: string): SamebatchError {
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  return new SamebatchError('E_READ', `${file.path}: cannot ${verb} data file (${code})`, { location: { file: file.path }, cause: err });
}

async function gunzipTo(file: DataFile, target: string): Promise<void> {
  try {
    await pipeline(fs.createReadStream(file.absPath), zlib.createGunzip({ chunkSize: 1 << 20 }), fs.createWriteStream(target));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code.startsWith('Z_') || code === 'ERR_ZLIB_INITIALIZATION_FAILED') {
      throw new SamebatchError('E_GZIP', `${file.path}: not a valid gzip file (${(err as Error).message})`, { location: { file: file.path }, cause: err });
    }
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      throw new SamebatchError('E_WRITE', `${target}: no space left to decompress ${file.path} (${code})`, { location: { file: target }, cause: err });
    }
    throw readError(file, err, 'read');
  }
}

function isSpace(b: number | undefined): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0d || b === 0x0a;
}

/** First byte that is not white space or a byte-order mark, or -1 for an empty file. */
function firstSignificantByte(fd: number): number {
  const buf = Buffer.alloc(64 << 10);
  let pos = 0;
  for (;;) {
    const n = fs.readSync(fd, buf, 0, buf.length, pos);
    if (n === 0) return -1;
    for (let i = 0; i < n; i++) {
      if (pos + i < 3 && [0xef, 0xbb, 0xbf][pos + i] === buf[i]) continue;
      if (!isSpace(buf[i])) return buf[i] as number;
    }
    pos += n;
  }
}

/** Chunk boundaries: each chunk ends just after a newline (or at the end of the file). */
export function planChunks(fd: number, size: number, chunkBytes: number): [number, number][] {
  const out: [number, number][] = [];
  const probe = Buffer.alloc(64 << 10);
  let start = 0;
  while (start < size) {
    let end = Math.min(size, start + chunkBytes);
    // Move the end forward to just past the next newline.
    while (end < size) {
      const n = fs.readSync(fd, probe, 0, Math.min(probe.length, size - end), end);
      if (n === 0) {
        end = size;
        break;
      }
      const nl = probe.subarray(0, n).indexOf(0x0a);
      if (nl >= 0) {
        end += nl + 1;
        break;
      }
      end += n;
    }
    out.push([start, end]);
    start = end;
  }
  return out;
}

export interface IndexContext {
  rules: ChunkRules;
  pool: WorkerPool;
  work: WorkDir;
  chunkBytes?: number;
  /** Keep each record's line number (for --provenance). */
  keepLines: boolean;
  /** Told the bytes (as stored) and records of each chunk as it is done. */
  onBytes?: (bytes: number, records: number) => void;
}

export async function indexFile(file: DataFile, ctx: IndexContext): Promise<FileIndex> {
  let stat: fs.Stats;
  try {
    fs.accessSync(file.absPath, fs.constants.R_OK);
    stat = fs.statSync(file.absPath);
  } catch (err) {
    throw readError(file, err, 'open');
  }
  let readPath = file.absPath;
  if (GZIP.test(file.absPath)) {
    readPath = ctx.work.newFile(`${file.id}.jsonl`);
    await gunzipTo(file, readPath);
  }
  let fd: number;
  try {
    fd = fs.openSync(readPath, 'r');
  } catch (err) {
    throw readError(file, err, 'open');
  }
  let chunks: [number, number][];
  try {
    if (/\.json(\.gz)?$/.test(file.absPath) && firstSignificantByte(fd) === 0x5b /* [ */) {
      const ix = indexJsonArray(file, readPath, stat.size, ctx);
      ctx.onBytes?.(stat.size, ix.records);
      return ix;
    }
    chunks = planChunks(fd, fs.fstatSync(fd).size, ctx.chunkBytes ?? CHUNK_BYTES);
  } catch (err) {
    if (err instanceof SamebatchError) throw err;
    throw readError(file, err, 'read');
  } finally {
    fs.closeSync(fd);
  }
  const compressed = readPath !== file.absPath;
  const results = await Promise.all(
    chunks.map(async ([start, end]) => {
      let r: ChunkResult;
      try {
        r = await ctx.pool.run<ChunkResult>({ kind: 'chunk', readPath, start, end, rules: ctx.rules });
      } catch (err) {
        throw readError(file, err, 'read');
      }
      ctx.onBytes?.(compressed ? Math.round(((end - start) * stat.size) / Math.max(1, chunks.at(-1)?.[1] ?? 1)) : end - start, r.records);
      return r;
    }),
  );
  return { file, readPath, bytes: stat.size, ...mergeChunks(file.path, results, ctx.rules.skipInvalid, ctx.keepLines) };
}

/**
 * A `.json` file holding one JSON array. The whole file is read into memory (an array cannot be
 * indexed in place); each element is parsed on its own so its faults carry the original line
 * and column, and is written as one line of JSON to the scratch directory.
 */
function indexJsonArray(file: DataFile, readPath: string, bytes: number, ctx: IndexContext): FileIndex {
  const raw = fs.readFileSync(readPath);
  if (!isUtf8(raw)) {
    const at = firstInvalidUtf8(raw);
    const before = raw.subarray(0, at).toString('utf8');
    const pos = advance(before, before.length, 1, 1);
    throw new SamebatchError('E_UTF8', `${file.path}:${pos.line}:${pos.column}: invalid UTF-8 (byte 0x${(raw[at] ?? 0).toString(16)})`, {
      location: { file: file.path, line: pos.line, column: pos.column },
    });
  }
  let text = raw.toString('utf8');
  // The byte-order mark is not a column.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const elements = splitJsonArray(text);
  if ('error' in elements) {
    throw new SamebatchError('E_JSON', `${file.path}:${elements.line}:${elements.column}: malformed JSON array: ${elements.error}`, {
      location: { file: file.path, line: elements.line, column: elements.column },
    });
  }
  const b = new ChunkBuilder(ctx.rules, elements.length);
  const target = ctx.work.newFile(`${file.id}.jsonl`);
  const parts: Buffer[] = [];
  let offset = 0;
  for (const el of elements) {
    const elementText = text.slice(el.start, el.end);
    // Re-serialised so that a record is one line; its line number stays the original one.
    let line: Buffer;
    try {
      line = Buffer.from(JSON.stringify(JSON.parse(elementText)), 'utf8');
    } catch {
      line = Buffer.alloc(0); // the check below reports the fault
    }
    const kept = b.count;
    const goOn = b.add(line, offset, el.line, el.column, elementText);
    if (b.count > kept) {
      parts.push(line, NEWLINE);
      offset += line.length + 1;
    }
    if (!goOn) break;
  }
  try {
    fs.writeFileSync(target, Buffer.concat(parts));
  } catch (err) {
    throw new SamebatchError('E_WRITE', `${target}: cannot write scratch copy of ${file.path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, {
      location: { file: target },
      cause: err,
    });
  }
  // Element lines are absolute, so the array is one chunk at line base 0.
  return { file, readPath: target, bytes, ...mergeChunks(file.path, [b.result(0)], ctx.rules.skipInvalid, ctx.keepLines) };
}

const NEWLINE = Buffer.from('\n');
