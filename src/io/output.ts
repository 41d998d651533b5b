/**
 * Output: shards written into a temporary directory beside --out and renamed into place at the
 * end, so a failed or interrupted run leaves no partial output and any earlier output untouched.
 * Or batch lines on standard output, with backpressure, where a closed pipe ends the run quietly.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createHash, type Hash } from 'node:crypto';
import { SamebatchError } from '../errors.js';
import type { ShardInfo } from '../types.js';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_TOOL = 'samebatch';

function errno(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? 'error';
}

function writeError(target: string, err: unknown, note = ''): SamebatchError {
  return new SamebatchError('E_WRITE', `${target}: write failed (${errno(err)}): ${(err as Error).message}${note}`, {
    location: { file: target },
    cause: err,
  });
}

/** True when `dir` holds a manifest that samebatch wrote. */
export function isSamebatchOutput(dir: string): boolean {
  try {
    const m = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST_FILE), 'utf8')) as { tool?: unknown };
    return m.tool === MANIFEST_TOOL;
  } catch {
    return false;
  }
}

/**
 * Refuses an --out that would lose something: an earlier samebatch output without --force, or
 * anything that is not a samebatch output (samebatch never replaces what it did not write).
 */
export function checkOutDir(out: string, force: boolean): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(out);
  } catch {
    return;
  }
  if (!stat.isDirectory()) {
    throw new SamebatchError('E_OUT_FOREIGN', `--out ${out}: exists and is not a directory; samebatch will not replace it`);
  }
  if (fs.readdirSync(out).length === 0) return;
  if (isSamebatchOutput(out)) {
    if (!force) throw new SamebatchError('E_OUT_EXISTS', `--out ${out}: holds an earlier samebatch output; pass --force to replace it`);
    return;
  }
  throw new SamebatchError(
    'E_OUT_FOREIGN',
    `--out ${out}: is a non-empty directory without a samebatch ${MANIFEST_FILE}; samebatch will not replace it, even with --force (choose a new or empty directory)`,
  );
}

/** The real path of `p`, or of its nearest existing ancestor joined with the rest. */
function realish(p: string): string {
  const abs = path.resolve(p);
  try {
    return fs.realpathSync(abs);
  } catch {
    const parent = path.dirname(abs);
    return parent === abs ? abs : path.join(realish(parent), path.basename(abs));
  }
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Refuses an --out inside an input directory (the shards would be read as data next time) and
 * an input inside --out (it would be replaced by its own output).
 */
export function checkOutOverlap(out: string, inputs: readonly string[]): void {
  const o = realish(out);
  for (const input of inputs) {
    const i = realish(input);
    let isDir = false;
    try {
      isDir = fs.statSync(i).isDirectory();
    } catch {
      continue; // discovery reports missing inputs
    }
    if (isInside(i, o)) {
      throw new SamebatchError('E_OUT_OVERLAP', `--out ${out}: input ${input} lies inside the output directory, which the run replaces; choose another --out`);
    }
    if (isDir && isInside(o, i)) {
      throw new SamebatchError('E_OUT_OVERLAP', `--out ${out}: lies inside input directory ${input}, so its shards would be read as data; choose an --out outside the inputs`);
    }
  }
}

/** `p` resolved through a symbolic link to a directory, so the link itself survives a replacement. */
function resolveLink(p: string): string {
  const abs = path.resolve(p);
  try {
    if (fs.lstatSync(abs).isSymbolicLink()) return fs.realpathSync(abs);
  } catch {
    // does not exist yet
  }
  return abs;
}

export class OutDir {
  readonly tmp: string;
  private done = false;

  /** The directory written: --out, or where it points when it is a symbolic link. */
  private readonly target: string;

  constructor(
    readonly out: string,
    /** Whether an earlier samebatch output found in --out at the end may be replaced. */
    private readonly replace: boolean,
  ) {
    this.target = resolveLink(out);
    const parent = path.dirname(this.target);
    try {
      fs.mkdirSync(parent, { recursive: true });
      this.tmp = fs.mkdtempSync(path.join(parent, `.${path.basename(this.target)}.samebatch-tmp-`));
      // mkdtemp makes the directory private; the output should get the usual mode.
      fs.chmodSync(this.tmp, 0o777 & ~process.umask());
    } catch (err) {
      throw writeError(parent, err);
    }
  }

  /** How a file of the output is named in messages: where it was going, not the temporary directory. */
  shown(name: string): string {
    return path.join(this.out, name);
  }

  /** The note added to a write failure: the temporary directory goes, an earlier output stays. */
  get failureNote(): string {
    return ` (nothing was written to ${this.out}; an earlier output there is untouched)`;
  }

  writeFile(name: string, data: string): void {
    const p = path.join(this.tmp, name);
    try {
      fs.writeFileSync(p, data);
    } catch (err) {
      throw writeError(this.shown(name), err, this.failureNote);
    }
  }

  /** Moves the finished output into place; an earlier output is replaced only now. */
  commit(): void {
    const target = this.target;
    let old: string | null = null;
    // --out was checked at the start; look again, since another process may have written there
    // since (a second build, or a person): replace only what the rules still allow.
    checkOutDir(target, this.replace);
    try {
      if (fs.existsSync(target)) {
        if (fs.readdirSync(target).length === 0) fs.rmdirSync(target);
        else {
          old = `${this.tmp}.old`;
          fs.renameSync(target, old);
        }
      }
      fs.renameSync(this.tmp, target);
    } catch (err) {
      if (old !== null && !fs.existsSync(target)) fs.renameSync(old, target);
      throw writeError(target, err);
    }
    this.done = true;
    if (old !== null) fs.rmSync(old, { recursive: true, force: true });
  }

  /** Removes the temporary directory; safe to call more than once and after commit. */
  abort(): void {
    if (this.done) return;
    this.done = true;
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }
}

export interface BatchSink {
  /**
   * Writes one step: one line (the global batch) or one per rank slice, with the examples each
   * holds. Returns false once the reader has gone (a closed pipe).
   */
  write(lines: Buffer[], examples: number[]): Promise<boolean>;
  /** Flushes and returns the shards written (none for standard output). */
  finish(): Promise<ShardInfo[]>;
}

const FLUSH_AT = 1 << 20;

export function shardName(i: number): string {
  return `batches-${String(i).padStart(5, '0')}.jsonl`;
}

export function rankDir(rank: number): string {
  return `rank-${String(rank).padStart(5, '0')}`;
}

/**
 * One sequence of shard files (the global one, or one rank's). Lines are hashed on this thread
 * while the previous buffer is written by libuv's thread pool: one write in flight at a time,
 * which keeps memory bounded and lets hashing and disk writes overlap.
 */
class ShardStream {
  readonly shards: ShardInfo[] = [];
  private hash: Hash | null = null;
  current: ShardInfo | null = null;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private inFlight: Promise<void> | null = null;

  constructor(
    private readonly outDir: OutDir,
    /** "" or "rank-00003/" */
    private readonly prefix: string,
    private readonly rank: number | null,
  ) {}

  private failed(err: unknown, file: string): SamebatchError {
    return writeError(this.outDir.shown(file), err, this.outDir.failureNote);
  }

  /**
   * Appends `bufs` to the shard file. The file is open only while it is written, so a run with
   * a thousand ranks does not hold a thousand descriptors.
   */
  private append(file: string, bufs: Buffer[]): Promise<void> {
    const target = path.join(this.outDir.tmp, file);
    return new Promise<void>((resolve, reject) => {
      fs.open(target, 'a', (openErr, fd) => {
        if (openErr) return reject(this.failed(openErr, file));
        const done = (err: unknown): void => {
          fs.close(fd, (closeErr) => {
            const e = err ?? closeErr;
            if (e) reject(this.failed(e, file));
            else resolve();
          });
        };
        const next = (rest: Buffer[]): void => {
          fs.writev(fd, rest, (err, written) => {
            if (err) return done(err);
            let left = written;
            const remaining: Buffer[] = [];
            for (const b of rest) {
              if (left >= b.length) left -= b.length;
              else {
                remaining.push(left > 0 ? b.subarray(left) : b);
                left = 0;
              }
            }
            if (remaining.length === 0) done(null);
            else next(remaining);
          });
        };
        next(bufs);
      });
    });
  }

  private async flush(): Promise<void> {
    if (this.current === null || this.pendingBytes === 0) return;
    await this.inFlight;
    const bufs = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    const write = this.append(this.current.file, bufs);
    // Handled here so that a failure waits, unreported, for the next await of inFlight.
    write.catch(() => undefined);
    this.inFlight = write;
  }

  async close(): Promise<void> {
    if (this.current === null || this.hash === null) return;
    await this.flush();
    await this.inFlight;
    this.inFlight = null;
    this.current.sha256 = this.hash.digest('hex');
    this.shards.push(this.current);
    this.current = null;
    this.hash = null;
  }

  open(firstStep: number): void {
    const file = `${this.prefix}${shardName(this.shards.length)}`;
    this.current = { file, ...(this.rank === null ? {} : { rank: this.rank }), first_step: firstStep, batches: 0, examples: 0, bytes: 0, sha256: '' };
    this.hash = createHash('sha256');
    try {
      if (this.prefix !== '' && this.shards.length === 0) fs.mkdirSync(path.join(this.outDir.tmp, this.prefix));
      fs.writeFileSync(path.join(this.outDir.tmp, file), '', { flag: 'wx' });
    } catch (err) {
      throw this.failed(err, file);
    }
  }

  async add(line: Buffer, examples: number): Promise<void> {
    const s = this.current as ShardInfo;
    s.batches++;
    s.examples += examples;
    s.bytes += line.length;
    (this.hash as Hash).update(line);
    this.pending.push(line);
    this.pendingBytes += line.length;
    if (this.pendingBytes >= FLUSH_AT) await this.flush();
  }

  /** After a failure: waits for a write in flight (OutDir then removes the directory). */
  async dispose(): Promise<void> {
    await this.inFlight?.catch(() => undefined);
    this.inFlight = null;
  }
}

/**
 * Shards capped by batches and bytes; a batch never straddles two shards. With per-rank output
 * every rank has its own sequence, and all roll over together (when any would pass a cap), so
 * every rank has the same steps in the same shard numbers.
 */
export class ShardWriter implements BatchSink {
  private readonly streams: ShardStream[];
  private step = 0;

  constructor(
    outDir: OutDir,
    private readonly maxBatches: number,
    private readonly maxBytes: number,
    ranks: number | null = null,
  ) {
    this.streams =
      ranks === null ? [new ShardStream(outDir, '', null)] : Array.from({ length: ranks }, (_, r) => new ShardStream(outDir, `${rankDir(r)}/`, r));
  }

  private full(lines: Buffer[]): boolean {
    return this.streams.some((s, i) => {
      const c = s.current;
      if (c === null) return true;
      if (c.batches === 0) return false;
      return (this.maxBatches > 0 && c.batches >= this.maxBatches) || (this.maxBytes > 0 && c.bytes + (lines[i] as Buffer).length > this.maxBytes);
    });
  }

  async write(lines: Buffer[], examples: number[]): Promise<boolean> {
    if (this.full(lines)) {
      for (const s of this.streams) {
        await s.close();
        s.open(this.step);
      }
    }
    for (let i = 0; i < this.streams.length; i++) await (this.streams[i] as ShardStream).add(lines[i] as Buffer, examples[i] as number);
    this.step++;
    return true;
  }

  async finish(): Promise<ShardInfo[]> {
    for (const s of this.streams) await s.close();
    return this.streams.flatMap((s) => s.shards);
  }

  async dispose(): Promise<void> {
    for (const s of this.streams) await s.dispose();
  }
}

/** Batch lines on a stream (standard output): awaits 'drain', and treats EPIPE as the reader's choice to stop. */
export class StreamSink implements BatchSink {
  private closed = false;
  private failure: Error | null = null;

  constructor(private readonly stream: NodeJS.WritableStream) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') this.closed = true;
      else this.failure = err;
    });
  }

  async write(lines: Buffer[]): Promise<boolean> {
    if (this.failure) throw writeError('standard output', this.failure);
    if (this.closed) return false;
    if (!this.stream.write(lines[0] as Buffer)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.stream.off('drain', done);
          this.stream.off('error', done);
          this.stream.off('close', done);
          resolve();
        };
        this.stream.on('drain', done);
        this.stream.on('error', done);
        this.stream.on('close', done);
      });
    }
    if (this.failure) throw writeError('standard output', this.failure);
    return !this.closed;
  }

  async finish(): Promise<ShardInfo[]> {
    return [];
  }
}
