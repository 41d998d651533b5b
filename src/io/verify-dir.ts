/**
 * Reading an output directory back for `samebatch verify`: the manifest, the listing, and each
 * sequence of shards as a stream of lines. Shards are streamed in chunks and hashed as they go;
 * no shard is ever held in memory whole.
 */
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { checkShardTally, verifyFailure, type ShardEntry, type StepLine } from '../core/verify.js';
import { SamebatchError } from '../errors.js';
import { MANIFEST_FILE } from './output.js';

const CHUNK = 1 << 20;
const NEWLINE = 0x0a;

function readError(shown: string, err: unknown): SamebatchError {
  const e = err as NodeJS.ErrnoException;
  return new SamebatchError('E_READ', `${shown}: cannot read (${e.code ?? 'error'}): ${e.message}`, { location: { file: shown }, cause: err });
}

/** The directory's manifest, parsed; E_PATH_* for a wrong argument, E_VERIFY for a missing or broken manifest. */
export function readManifestOf(dir: string): { value: unknown; shown: string } {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dir);
  } catch {
    throw new SamebatchError('E_PATH_MISSING', `${dir}: no such directory`, { location: { file: dir } });
  }
  if (!stat.isDirectory()) throw new SamebatchError('E_PATH_KIND', `${dir}: is not a directory (verify takes an output directory)`, { location: { file: dir } });
  const shown = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = fs.readFileSync(shown, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw verifyFailure(shown, 'missing: not a samebatch output, or its manifest was deleted');
    throw readError(shown, err);
  }
  try {
    return { value: JSON.parse(text) as unknown, shown };
  } catch (err) {
    throw verifyFailure(shown, `not valid JSON (${(err as Error).message})`);
  }
}

/** Fails on the first listed shard that is missing or not a file, before any is read. */
export function checkShardsPresent(dir: string, shards: readonly ShardEntry[]): void {
  for (const s of shards) {
    const shown = path.join(dir, s.file);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(shown);
    } catch {
      throw verifyFailure(shown, 'missing: the manifest lists this shard');
    }
    if (!stat.isFile()) throw verifyFailure(shown, 'is not a file, but the manifest lists it as a shard');
  }
}

/** Entries of the directory (and of directories holding shards) the manifest does not list. */
export function unlistedEntries(dir: string, shards: readonly ShardEntry[]): string[] {
  const listed = new Set(shards.map((s) => s.file));
  const dirs = new Set<string>(['']);
  for (const s of shards) {
    const parts = s.file.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  const out: string[] = [];
  for (const d of [...dirs].sort()) {
    let names: string[];
    try {
      names = fs.readdirSync(path.join(dir, d)).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      const rel = d === '' ? name : `${d}/${name}`;
      if (rel === MANIFEST_FILE || listed.has(rel) || dirs.has(rel)) continue;
      out.push(rel);
    }
  }
  return out;
}

/**
 * One sequence of shards (the global one, or one rank's) as a stream of parsed lines. At the end
 * of each shard its tally (lines, bytes, sha256, examples) is checked against its receipt.
 * Chunks are read by position with the file open only during the read: a per-rank output read
 * in lockstep may have thousands of sequences, more than the process may keep open.
 */
export class ShardLines {
  private index = -1;
  private reading = false;
  private position = 0;
  private readonly chunk = Buffer.allocUnsafe(CHUNK);
  private hash: Hash | null = null;
  private bytes = 0;
  private lineNo = 0;
  private examples: number | null = 0;
  private ready: Buffer[] = [];
  private at = 0;
  private carry: Buffer[] = [];

  constructor(
    private readonly dir: string,
    private readonly shards: readonly ShardEntry[],
  ) {}

  private get shown(): string {
    return path.join(this.dir, (this.shards[this.index] as ShardEntry).file);
  }

  /** The next line, parsed, or null after the last shard. */
  async next(): Promise<StepLine | null> {
    for (;;) {
      if (this.at < this.ready.length) {
        const buf = this.ready[this.at++] as Buffer;
        const where = { file: this.shown, line: ++this.lineNo };
        if (buf.length === 0) throw verifyFailure(where, 'blank line: every line is one batch');
        try {
          return { value: JSON.parse(buf.toString('utf8')) as unknown, where };
        } catch (err) {
          throw verifyFailure(where, `not valid JSON (${(err as Error).message})`);
        }
      }
      if (this.reading) {
        const got = this.readChunk();
        if (got !== null) {
          this.take(got);
          continue;
        }
        this.endShard();
      }
      if (this.index + 1 >= this.shards.length) return null;
      this.index++;
      this.openShard();
    }
  }

  /** Adds the examples of the line just returned to the shard's tally (null: not known). */
  count(examples: number | null): void {
    this.examples = examples === null || this.examples === null ? null : this.examples + examples;
  }

  close(): void {
    this.reading = false;
  }

  /** The next chunk of the current shard (a copy), or null at its end. */
  private readChunk(): Buffer | null {
    const file = path.join(this.dir, (this.shards[this.index] as ShardEntry).file);
    let n: number;
    try {
      const fd = fs.openSync(file, 'r');
      try {
        n = fs.readSync(fd, this.chunk, 0, CHUNK, this.position);
      } finally {
        fs.closeSync(fd);
      }
    } catch (err) {
      throw readError(this.shown, err);
    }
    if (n === 0) return null;
    this.position += n;
    return Buffer.from(this.chunk.subarray(0, n));
  }

  private openShard(): void {
    this.reading = true;
    this.position = 0;
    this.hash = createHash('sha256');
    this.bytes = 0;
    this.lineNo = 0;
    this.examples = 0;
    this.ready = [];
    this.at = 0;
    this.carry = [];
  }

  /** Splits a chunk into complete lines (without their newline); the rest waits for the next chunk. */
  private take(chunk: Buffer): void {
    (this.hash as Hash).update(chunk);
    this.bytes += chunk.length;
    this.ready = [];
    this.at = 0;
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl >= 0; nl = chunk.indexOf(NEWLINE, start)) {
      const piece = chunk.subarray(start, nl);
      if (this.carry.length > 0) {
        this.carry.push(piece);
        this.ready.push(Buffer.concat(this.carry));
        this.carry = [];
      } else {
        this.ready.push(piece);
      }
      start = nl + 1;
    }
    if (start < chunk.length) this.carry.push(chunk.subarray(start));
  }

  private endShard(): void {
    const s = this.shards[this.index] as ShardEntry;
    const shown = this.shown;
    this.close();
    if (this.carry.length > 0) {
      throw verifyFailure({ file: shown, line: this.lineNo + 1 }, 'the last line has no newline: the shard is truncated');
    }
    checkShardTally(s, { lines: this.lineNo, bytes: this.bytes, sha256: (this.hash as Hash).digest('hex'), examples: this.examples }, shown);
  }
}
