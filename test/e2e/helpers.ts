/**
 * Helpers for the end-to-end tests: spawn the real binary (bin/samebatch.js → dist/), read its
 * output back, and check the SPEC's invariants against the input files read independently here.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { ManifestGroup } from '../../src/core/manifest.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.join(REPO, 'bin', 'samebatch.js');
export const FIXTURES = path.join(REPO, 'fixtures');
export const UPSTREAM = path.resolve(REPO, '..', 'shared', 'fixtures-upstream');

/** The README's four inputs, relative to the repository root. */
export const README_INPUTS = [
  'fixtures/retrieval',
  'fixtures/sts/sts.jsonl',
  'fixtures/classification-no_in_batch_neg',
  'fixtures/clustering-no_in_batch_neg',
] as const;

// ---------------------------------------------------------------------------------------------
// running the binary

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
}

/** Runs `node bin/samebatch.js ...args` and waits for it. */
export function run(args: readonly string[], opts: RunOptions = {}): RunResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? REPO,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, NO_COLOR: '1' },
  });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `samebatch build ...args`, expecting exit 0 (the stderr is shown when it is not). */
export function buildOk(args: readonly string[], opts: RunOptions = {}): RunResult {
  const r = run(['build', ...args], opts);
  if (r.status !== 0) throw new Error(`samebatch build ${args.join(' ')} exited ${r.status}\n${r.stderr}`);
  return r;
}

/**
 * Spawns `build ...args --out -`, reads standard output until the first complete line, then
 * destroys the pipe. Resolves with the exit status, the first line and the stderr text.
 */
export function runAndCloseAfterFirstLine(
  args: readonly string[],
  opts: RunOptions = {},
): Promise<{ status: number | null; signal: NodeJS.Signals | null; firstLine: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'build', ...args], { cwd: opts.cwd ?? REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    let firstLine: string | null = null;
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      stderr += d;
    });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      if (firstLine !== null) return;
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        firstLine = buf.slice(0, nl);
        child.stdout.destroy();
      }
    });
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, firstLine: firstLine ?? buf, stderr }));
  });
}

// ---------------------------------------------------------------------------------------------
// temporary directories

const temps: string[] = [];

/** A fresh temporary directory, removed by `removeTempDirs` (call it from afterAll). */
export function tempDir(prefix = 'samebatch-e2e-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(d);
  return d;
}

export function removeTempDirs(): void {
  for (const d of temps.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

/** Entries of `dir` named like samebatch's temporary work directories. */
export function leftoverTmpDirs(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => /^\..*\.samebatch-tmp-/.test(n));
}

/** Every file below `dir` (relative paths, sorted) with its bytes. */
export function snapshotTree(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (rel: string): void => {
    const abs = path.join(dir, rel);
    for (const e of fs.readdirSync(abs, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) walk(r);
      else out.set(r, fs.readFileSync(path.join(dir, r)));
    }
  };
  walk('');
  return out;
}

// ---------------------------------------------------------------------------------------------
// output shapes

export interface Example {
  query: string;
  pos: string[];
  neg: string[];
  type?: string;
  pos_scores?: number[];
  neg_scores?: number[];
  [field: string]: unknown;
}

export interface BatchLine {
  epoch: number;
  step: number;
  epoch_step: number;
  group: string;
  type: string | null;
  batch_size: number;
  world_size: number;
  no_in_batch_neg: boolean;
  provenance?: string[];
  examples: Example[];
}

export type { ManifestGroup };

export interface ManifestShard {
  file: string;
  first_step: number;
  batches: number;
  examples: number;
  bytes: number;
  sha256: string;
}

export interface Manifest {
  tool: string;
  version: string;
  options: Record<string, unknown>;
  totals: {
    epochs: number;
    world_size: number;
    steps_per_epoch: number;
    steps: number;
    examples_per_epoch: number;
    tail_left_out_per_epoch: number;
    groups: number;
    files: number;
    records: number;
    records_kept: number;
  };
  inputs: { path: string; id: string; bytes: number; records: number; kept: number; type: string | null; no_in_batch_neg: boolean; group: string | null }[];
  groups: ManifestGroup[];
  skipped: { path: string; records: number; reason: string }[];
  dropped: { id: string; members: string[]; records: number; reason: string }[];
  passed_over: { path: string; reason: string }[];
  shards: ManifestShard[];
}

export function readManifest(outDir: string): Manifest {
  return JSON.parse(fs.readFileSync(path.join(outDir, 'manifest.json'), 'utf8')) as Manifest;
}

/** The shard files of an output directory (by name, which must be the manifest's order). */
export function shardFiles(outDir: string): string[] {
  return fs
    .readdirSync(outDir)
    .filter((n) => n !== 'manifest.json')
    .sort();
}

/** All shards of `outDir`, concatenated in the manifest's order. */
export function concatShards(outDir: string, m: Manifest = readManifest(outDir)): Buffer {
  return Buffer.concat(m.shards.map((s) => fs.readFileSync(path.join(outDir, s.file))));
}

export function parseLines(text: string): BatchLine[] {
  expect(text === '' || text.endsWith('\n'), 'output ends with a newline').toBe(true);
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as BatchLine);
}

export function readBatches(outDir: string, m: Manifest = readManifest(outDir)): BatchLine[] {
  return parseLines(concatShards(outDir, m).toString('utf8'));
}

export function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Checks every shard entry of the manifest against the file it names. */
export function expectShardsMatchManifest(outDir: string, m: Manifest): void {
  expect(shardFiles(outDir)).toEqual(m.shards.map((s) => s.file));
  let step = 0;
  m.shards.forEach((s, i) => {
    expect(s.file).toBe(`batches-${String(i).padStart(5, '0')}.jsonl`);
    const bytes = fs.readFileSync(path.join(outDir, s.file));
    expect(bytes.length, `${s.file} bytes`).toBe(s.bytes);
    expect(sha256(bytes), `${s.file} sha256`).toBe(s.sha256);
    const lines = parseLines(bytes.toString('utf8'));
    expect(lines.length, `${s.file} batches`).toBe(s.batches);
    expect(lines.reduce((n, l) => n + l.examples.length, 0), `${s.file} examples`).toBe(s.examples);
    expect(s.first_step).toBe(step);
    expect(lines[0]?.step).toBe(step);
    step += s.batches;
  });
  expect(step).toBe(m.totals.steps);
}

// ---------------------------------------------------------------------------------------------
// logs

export interface LogEntry {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** Splits stderr into pino JSON entries and any other lines. */
export function parseStderr(stderr: string): { logs: LogEntry[]; other: string[] } {
  const logs: LogEntry[] = [];
  const other: string[] = [];
  for (const line of stderr.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const v = JSON.parse(line) as unknown;
      if (typeof v === 'object' && v !== null && typeof (v as LogEntry).level === 'number' && typeof (v as LogEntry).msg === 'string') {
        logs.push(v as LogEntry);
        continue;
      }
    } catch {
      // not JSON
    }
    other.push(line);
  }
  return { logs, other };
}

export const WARN = 40;

// ---------------------------------------------------------------------------------------------
// the input, read independently of samebatch

export interface InputRecord {
  /** "path:line" as samebatch's --provenance spells it (path as given, relative to cwd). */
  where: string;
  file: string;
  line: number;
  record: Example;
}

/** Non-blank lines of a JSONL data file, parsed, with 1-based line numbers. */
export function readRecords(file: string, cwd: string = REPO): InputRecord[] {
  const text = fs.readFileSync(path.resolve(cwd, file), 'utf8');
  const out: InputRecord[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    out.push({ where: `${file}:${i + 1}`, file, line: i + 1, record: JSON.parse(line) as Example });
  });
  return out;
}

/** Data files an argument stands for (non-recursive): itself, or the .jsonl/.json files directly in it. */
export function dataFilesOf(arg: string, cwd: string = REPO): string[] {
  const abs = path.resolve(cwd, arg);
  const shown = arg.replace(/\/+$/, '');
  if (fs.statSync(abs).isFile()) return [shown];
  return fs
    .readdirSync(abs, { withFileTypes: true })
    .filter((e) => e.isFile() && !e.name.startsWith('.') && /\.jsonl?$/.test(e.name))
    .map((e) => `${shown}/${e.name}`)
    .sort();
}

export function withoutScores(r: Example): Example {
  const { pos_scores: _p, neg_scores: _n, ...rest } = r;
  return rest as Example;
}

/** A key for an example's content (teacher scores removed), the same however it was serialised. */
export function contentKey(r: Example): string {
  return JSON.stringify(withoutScores(r));
}

export interface InputIndex {
  records: InputRecord[];
  byWhere: Map<string, InputRecord>;
  byContent: Map<string, InputRecord>;
  recordsPerFile: Map<string, number>;
}

export function indexInputs(args: readonly string[], cwd: string = REPO): InputIndex {
  const records: InputRecord[] = [];
  const recordsPerFile = new Map<string, number>();
  for (const arg of args) {
    for (const f of dataFilesOf(arg, cwd)) {
      const rs = readRecords(f, cwd);
      recordsPerFile.set(f, rs.length);
      records.push(...rs);
    }
  }
  const byWhere = new Map(records.map((r) => [r.where, r]));
  const byContent = new Map(records.map((r) => [contentKey(r.record), r]));
  // Precondition for identifying examples by content: no two input records are the same.
  expect(byContent.size, 'input records are pairwise distinct').toBe(records.length);
  return { records, byWhere, byContent, recordsPerFile };
}

// ---------------------------------------------------------------------------------------------
// invariants

export interface InvariantOptions {
  epochs: number;
  worldSize: number;
  knowledgeDistillation?: boolean;
  /** --max-examples-per-dataset, when given. */
  cap?: number;
}

/** Where a batch line's example came from: by provenance when present (checked), else by content. */
export function sourceOf(line: BatchLine, i: number, input: InputIndex): InputRecord {
  const ex = line.examples[i] as Example;
  const prov = line.provenance?.[i];
  if (prov !== undefined) {
    const src = input.byWhere.get(prov);
    if (src === undefined) throw new Error(`provenance ${prov} names no input record`);
    expect(contentKey(ex), `example at ${prov}`).toBe(contentKey(src.record));
    return src;
  }
  const src = input.byContent.get(contentKey(ex));
  if (src === undefined) throw new Error(`step ${line.step}: example ${i} (${ex.query}) is no input record`);
  return src;
}

/**
 * The SPEC's invariants over a finished run: one group and one type per line, batch_size ×
 * world_size examples, no example twice within an epoch, tails counted, steps numbered
 * 0..N-1, no_in_batch_neg exactly for groups of *no_in_batch_neg inputs, teacher scores only
 * with knowledge distillation.
 */
export function checkInvariants(m: Manifest, lines: readonly BatchLine[], input: InputIndex, o: InvariantOptions): void {
  const groups = new Map(m.groups.map((g) => [g.id, g]));
  expect(groups.size).toBe(m.groups.length);

  // records a group may hold, counted here from the input (after the cap)
  const kept = (file: string): number => {
    const n = input.recordsPerFile.get(file);
    if (n === undefined) throw new Error(`manifest names ${file}, which is no input file`);
    return o.cap === undefined ? n : Math.min(n, o.cap);
  };
  let keptTotal = 0;
  for (const n of input.recordsPerFile.values()) keptTotal += o.cap === undefined ? n : Math.min(n, o.cap);
  let inputTotal = 0;
  for (const n of input.recordsPerFile.values()) inputTotal += n;
  expect(m.totals.records).toBe(inputTotal);
  expect(m.totals.records_kept).toBe(keptTotal);

  for (const g of m.groups) {
    expect(g.examples, `${g.id} examples = sum of its members`).toBe(g.members.reduce((n, f) => n + kept(f), 0));
    expect(g.global_batch_size).toBe(g.batch_size * o.worldSize);
    expect(g.batches_per_epoch).toBe(Math.floor(g.examples / g.global_batch_size));
    expect(g.tail_left_out_per_epoch).toBe(g.examples - g.batches_per_epoch * g.global_batch_size);
    // no_in_batch_neg exactly for groups whose files sit in a *no_in_batch_neg directory or are so named
    const marked = g.members.every((f) => {
      const parts = f.split('/');
      const base = (parts[parts.length - 1] ?? '').replace(/\.jsonl?$/, '');
      return base.endsWith('no_in_batch_neg') || parts.slice(0, -1).some((p) => p.endsWith('no_in_batch_neg'));
    });
    expect(g.no_in_batch_neg, `${g.id} no_in_batch_neg`).toBe(marked);
  }

  // every input record is in a group, dropped or skipped — exactly once
  const accounted = m.groups.reduce((n, g) => n + g.examples, 0) + m.dropped.reduce((n, d) => n + d.records, 0) + m.skipped.reduce((n, s) => n + s.records, 0);
  expect(accounted, 'groups + dropped + skipped = records kept').toBe(keptTotal);
  const stepsPerEpoch = m.groups.reduce((n, g) => n + g.batches_per_epoch, 0);
  expect(m.totals.steps_per_epoch).toBe(stepsPerEpoch);
  expect(m.totals.steps).toBe(stepsPerEpoch * o.epochs);
  expect(lines.length).toBe(stepsPerEpoch * o.epochs);

  const memberOf = new Map<string, string>();
  for (const g of m.groups) for (const f of g.members) memberOf.set(f, g.id);

  const seenPerEpoch: Set<string>[] = Array.from({ length: o.epochs }, () => new Set<string>());
  const perEpochPerGroup: Map<string, number>[] = Array.from({ length: o.epochs }, () => new Map<string, number>());
  lines.forEach((line, k) => {
    expect(line.step, 'line k is step k').toBe(k);
    const epoch = Math.floor(k / stepsPerEpoch);
    expect(line.epoch).toBe(epoch);
    expect(line.epoch_step).toBe(k - epoch * stepsPerEpoch);
    const g = groups.get(line.group);
    if (g === undefined) throw new Error(`step ${k}: group ${line.group} is not in the manifest`);
    expect(line.world_size).toBe(o.worldSize);
    expect(line.batch_size).toBe(g.batch_size);
    expect(line.type).toBe(g.type);
    expect(line.no_in_batch_neg).toBe(g.no_in_batch_neg);
    expect(line.examples.length, `step ${k}: batch_size × world_size examples`).toBe(g.batch_size * o.worldSize);
    if (line.provenance !== undefined) expect(line.provenance.length).toBe(line.examples.length);
    const seen = seenPerEpoch[epoch] as Set<string>;
    line.examples.forEach((ex, i) => {
      // one type per line: each record's own type field
      expect(ex.type ?? null, `step ${k} example ${i} type`).toBe(line.type);
      const src = sourceOf(line, i, input);
      expect(memberOf.get(src.file), `step ${k}: ${src.where} belongs to ${line.group}`).toBe(line.group);
      expect(seen.has(src.where), `epoch ${epoch}: ${src.where} appears twice`).toBe(false);
      seen.add(src.where);
      if (o.knowledgeDistillation) {
        expect(ex.pos_scores).toEqual(src.record.pos_scores);
        expect(ex.neg_scores).toEqual(src.record.neg_scores);
        expect(ex.pos_scores?.length).toBe(ex.pos.length);
        expect(ex.neg_scores?.length).toBe(ex.neg.length);
      } else {
        expect(ex.pos_scores, 'no teacher scores without --knowledge-distillation').toBeUndefined();
        expect(ex.neg_scores, 'no teacher scores without --knowledge-distillation').toBeUndefined();
      }
      expect(withoutScores(ex)).toEqual(withoutScores(src.record));
    });
    const counts = perEpochPerGroup[epoch] as Map<string, number>;
    counts.set(line.group, (counts.get(line.group) ?? 0) + line.examples.length);
  });

  // tails: per epoch, written + tail = group size; written + tails + dropped + skipped = records kept
  const dropped = m.dropped.reduce((n, d) => n + d.records, 0);
  const skipped = m.skipped.reduce((n, s) => n + s.records, 0);
  const tails = m.groups.reduce((n, g) => n + g.tail_left_out_per_epoch, 0);
  expect(m.totals.tail_left_out_per_epoch).toBe(tails);
  for (let e = 0; e < o.epochs; e++) {
    const written = (seenPerEpoch[e] as Set<string>).size;
    expect(written + tails + dropped + skipped, `epoch ${e}: written + tails + dropped + skipped`).toBe(keptTotal);
    expect(m.totals.examples_per_epoch).toBe(written);
    for (const g of m.groups) {
      expect((perEpochPerGroup[e] as Map<string, number>).get(g.id) ?? 0, `epoch ${e} ${g.id}`).toBe(g.examples - g.tail_left_out_per_epoch);
    }
  }
}

/** Batches per group per epoch, counted from the lines. */
export function countBatches(lines: readonly BatchLine[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const l of lines) {
    const k = `${l.epoch}\u0000${l.group}`;
    out.set(k, (out.get(k) ?? 0) + 1);
  }
  return out;
}

/** Copies a directory tree (files only, sorted or reversed creation order). */
export function copyTree(from: string, to: string, order: 'forward' | 'reverse', mtime?: Date): void {
  const files: string[] = [];
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(from, rel), { withFileTypes: true })) {
      const r = rel === '' ? e.name : path.join(rel, e.name);
      if (e.isDirectory()) walk(r);
      else files.push(r);
    }
  };
  walk('');
  files.sort();
  if (order === 'reverse') files.reverse();
  for (const r of files) {
    const dest = path.join(to, r);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.copyFileSync(path.join(from, r), dest);
    if (mtime) fs.utimesSync(dest, mtime, mtime);
  }
}
