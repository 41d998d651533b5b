/**
 * One test per "known upstream fault" of SPEC: each sets up the situation in which FlagEmbedding
 * misbehaves and asserts samebatch's fixed behaviour.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { build, type BuildResult } from '../../src/build.js';
import { SamebatchError } from '../../src/errors.js';
import { createLogger, type Logger } from '../../src/io/log.js';
import { resolveOptions, type BuildOptions } from '../../src/options.js';
import type { ManifestGroup } from '../../src/core/manifest.js';

// ---------------------------------------------------------------------------------------------
// A file system whose directory listings come in another order. Node's readdir (libuv scandir)
// already returns names in byte order on every file system, so FlagEmbedding's os.listdir fault
// cannot be shown by creating files in another order alone: discovery's directory listing
// (fast-glob) is wrapped so that listings under the directories named here come back reversed.

const listing = vi.hoisted(() => ({ reversed: new Set<string>(), perturbed: 0 }));

vi.mock('fast-glob', async (importOriginal) => {
  const nodePath = await import('node:path');
  const mod = await importOriginal<{ default: typeof import('fast-glob') }>();
  const real = mod.default;
  const sync = ((patterns: string | string[], opts?: { cwd?: string }) => {
    const found = real.sync(patterns, opts);
    const cwd = opts?.cwd === undefined ? null : nodePath.resolve(opts.cwd);
    if (cwd !== null && [...listing.reversed].some((d) => cwd === d || cwd.startsWith(`${d}${nodePath.sep}`))) {
      listing.perturbed++;
      return [...found].reverse();
    }
    return found;
  }) as typeof real.sync;
  const wrapped = Object.assign((...a: Parameters<typeof real>) => real(...a), real, { sync, globSync: sync });
  return { ...mod, default: wrapped };
});

// ---------------------------------------------------------------------------------------------
// helpers

interface Rec {
  query: string;
  pos: string[];
  neg: string[];
  type?: string;
  batch_size?: number;
  [field: string]: unknown;
}

interface Line {
  epoch: number;
  step: number;
  group: string;
  type: string | null;
  batch_size: number;
  world_size: number;
  no_in_batch_neg: boolean;
  examples: Rec[];
}

interface Manifest {
  totals: { tail_left_out_per_epoch: number; steps: number; steps_per_epoch: number };
  inputs: { path: string; id: string; records: number; kept: number; no_in_batch_neg: boolean; group: string | null }[];
  groups: ManifestGroup[];
  skipped: { path: string; records: number; reason: string }[];
  dropped: { id: string; members: string[]; records: number; reason: string }[];
  passed_over: { path: string; reason: string }[];
  shards: { file: string; sha256: string }[];
}

interface LogEntry {
  level: number;
  msg: string;
  [field: string]: unknown;
}

const WARN = 40;

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) fs.rmSync(r, { recursive: true, force: true });
});

function tmp(): string {
  const r = fs.mkdtempSync(path.join(os.tmpdir(), 'samebatch-regress-'));
  roots.push(r);
  return r;
}

/** `n` records whose queries start with `prefix`; `extra` fields go into every record. */
function recs(prefix: string, n: number, extra: Partial<Rec> = {}): Rec[] {
  return Array.from({ length: n }, (_, i) => ({
    query: `${prefix}#${i}`,
    pos: [`pos ${prefix}#${i}`],
    neg: [`neg ${prefix}#${i}`],
    ...extra,
  }));
}

function writeJsonl(file: string, records: readonly Rec[]): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  return file;
}

/** A pino logger that writes into an array (all levels from `level` up). */
function capturingLogger(level = 'debug'): { logger: Logger; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  let buf = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb): void {
      buf += chunk.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim() !== '') entries.push(JSON.parse(line) as LogEntry);
      }
      cb();
    },
  });
  return { logger: pino({ name: 'samebatch', level, base: null }, stream), entries };
}

const devNull = (): Writable =>
  new Writable({
    write(_c, _e, cb): void {
      cb();
    },
  });

async function run(
  paths: readonly string[],
  raw: Partial<Record<keyof BuildOptions, unknown>>,
  logger: Logger = createLogger('silent'),
): Promise<BuildResult> {
  return build(paths, resolveOptions(raw), { logger, stdout: devNull() });
}

/** Runs a build that must fail; returns its error. */
async function runFails(paths: readonly string[], raw: Partial<Record<keyof BuildOptions, unknown>>): Promise<SamebatchError> {
  let caught: unknown = null;
  try {
    await run(paths, raw);
  } catch (err) {
    caught = err;
  }
  expect(caught, 'the build fails with a SamebatchError').toBeInstanceOf(SamebatchError);
  return caught as SamebatchError;
}

function manifestOf(out: string): Manifest {
  return JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as Manifest;
}

function shardBytes(out: string): Buffer {
  return Buffer.concat(manifestOf(out).shards.map((s) => fs.readFileSync(path.join(out, s.file))));
}

function linesOf(out: string): Line[] {
  return shardBytes(out)
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Line);
}

function warnings(entries: readonly LogEntry[]): LogEntry[] {
  return entries.filter((e) => e.level === WARN);
}

// ---------------------------------------------------------------------------------------------

describe('known upstream faults samebatch must not repeat', () => {
  it('upstream fault 1: directory listing order does not change the batches', async () => {
    // The same files, created in opposite orders in two directories of the same base name.
    // Names whose code-point order differs from locale / case-insensitive order.
    const names = ['B.jsonl', 'a.jsonl', '_x.jsonl', 'Z10.jsonl', 'Z9.jsonl', 'é.jsonl', 'a0.jsonl', 'a.json'];
    const contents = new Map(names.map((n, i) => [n, recs(`file ${n}`, 3 + i, i % 2 === 0 ? { type: 'normal' } : {})]));
    const rootA = tmp();
    const rootB = tmp();
    const dirA = path.join(rootA, 'data');
    const dirB = path.join(rootB, 'data');
    fs.mkdirSync(dirA);
    fs.mkdirSync(dirB);
    for (const n of names) writeJsonl(path.join(dirA, n), contents.get(n) ?? []);
    for (const n of [...names].reverse()) writeJsonl(path.join(dirB, n), contents.get(n) ?? []);
    // A file created later in directory B gets an older modification time too.
    fs.utimesSync(path.join(dirB, 'B.jsonl'), new Date(0), new Date(0));
    // And directory B lists its entries in reverse order, as some file systems do.
    listing.reversed.add(path.resolve(dirB));

    // Small threshold 8 puts several files into merged groups, where member order shapes the batches.
    const opts = { batchSize: 2, smallThreshold: 8, epochs: 2, seed: 7 };
    const outA = path.join(rootA, 'out');
    const outB = path.join(rootB, 'out');
    await run([dirA], { ...opts, out: outA });
    listing.perturbed = 0;
    await run([dirB], { ...opts, out: outB });
    expect(listing.perturbed, 'directory B was listed in reverse order (if discovery no longer uses fast-glob, update the listing mock above)').toBeGreaterThan(0);

    expect(shardBytes(outB).equals(shardBytes(outA)), 'shard bytes identical').toBe(true);
    const norm = (out: string, root: string): string => fs.readFileSync(path.join(out, 'manifest.json'), 'utf8').split(root).join('<root>');
    expect(norm(outB, rootB)).toBe(norm(outA, rootA));
    // Members are listed by code point, not by creation or locale order.
    const m = manifestOf(outA);
    expect(m.inputs.map((i) => path.basename(i.path))).toEqual([...names].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
  });

  it('upstream fault 2: small files of different types in one directory give two merged groups, no batch mixes types', async () => {
    const root = tmp();
    const dir = path.join(root, 'retrieval');
    writeJsonl(path.join(dir, 'nq.jsonl'), recs('nq', 5, { type: 'normal' }));
    writeJsonl(path.join(dir, 'hotpot.jsonl'), recs('hotpot', 5, { type: 'normal' }));
    writeJsonl(path.join(dir, 'fever.jsonl'), recs('fever', 4, { type: 'only_1neg' }));
    writeJsonl(path.join(dir, 'nli.jsonl'), recs('nli', 6, { type: 'only_1neg' }));
    writeJsonl(path.join(dir, 'big.jsonl'), recs('big', 12, { type: 'normal' }));
    const out = path.join(root, 'out');
    await run([dir], { out, batchSize: 2, smallThreshold: 10, dropThreshold: 3, epochs: 3 });

    const m = manifestOf(out);
    const merged = m.groups.filter((g) => g.merged);
    expect(merged.map((g) => ({ id: g.id, type: g.type, examples: g.examples, members: g.members.map((p) => path.basename(p)).sort() }))).toEqual([
      { id: 'retrieval/<small:normal>', type: 'normal', examples: 10, members: ['hotpot.jsonl', 'nq.jsonl'] },
      { id: 'retrieval/<small:only_1neg>', type: 'only_1neg', examples: 10, members: ['fever.jsonl', 'nli.jsonl'] },
    ]);
    const lines = linesOf(out);
    expect(lines.length).toBeGreaterThan(0);
    const seenGroups = new Set<string>();
    for (const l of lines) {
      seenGroups.add(l.group);
      const types = new Set(l.examples.map((e) => e.type ?? null));
      expect([...types], `step ${l.step} (${l.group}) holds one type`).toEqual([l.type]);
    }
    expect(seenGroups).toContain('retrieval/<small:normal>');
    expect(seenGroups).toContain('retrieval/<small:only_1neg>');
  });

  it('upstream fault 3: an empty neg where negatives are sampled is an E_NO_NEGATIVES error naming file:line, and --train-group-size 1 builds', async () => {
    const root = tmp();
    const records = recs('q', 6, { type: 'normal' });
    (records[2] as Rec).neg = [];
    const file = writeJsonl(path.join(root, 'data', 'train.jsonl'), records);
    const out = path.join(root, 'out');

    const err = await runFails([file], { out, batchSize: 2 });
    expect(err.code).toBe('E_NO_NEGATIVES');
    expect(err.exitCode).toBe(1);
    expect(err.message).toContain(`${file}:3`);
    expect(err.message).toContain('neg');
    expect(err.location).toEqual({ file, line: 3 });
    expect(fs.existsSync(out), 'nothing written').toBe(false);

    // also only_1neg, which always takes one negative
    const one = recs('o', 4, { type: 'only_1neg' });
    (one[0] as Rec).neg = [];
    const file1 = writeJsonl(path.join(root, 'data', 'one.jsonl'), one);
    const err1 = await runFails([file1], { out, batchSize: 2, trainGroupSize: 1 });
    expect(err1.code).toBe('E_NO_NEGATIVES');
    expect(err1.message).toContain(`${file1}:1`);

    // No negatives are sampled with one passage per query: the run goes through.
    await run([file], { out, batchSize: 2, trainGroupSize: 1 });
    const lines = linesOf(out);
    const queries = lines.flatMap((l) => l.examples.map((e) => e.query));
    expect(queries.sort()).toEqual(records.map((r) => r.query).sort());
    const empty = lines.flatMap((l) => l.examples).find((e) => e.query === 'q#2');
    expect(empty?.neg).toEqual([]);
  });

  it('upstream fault 4: a file argument below the small threshold is skipped with a reason in the manifest and a warn log line', async () => {
    const root = tmp();
    const small = writeJsonl(path.join(root, 'tiny.jsonl'), recs('tiny', 3));
    const big = writeJsonl(path.join(root, 'big.jsonl'), recs('big', 10));
    const out = path.join(root, 'out');
    const { logger, entries } = capturingLogger('info');
    await run([small, big], { out, batchSize: 2, smallThreshold: 5 }, logger);

    const m = manifestOf(out);
    expect(m.skipped).toHaveLength(1);
    const s = m.skipped[0];
    expect(s?.path).toBe(small);
    expect(s?.records).toBe(3);
    expect(s?.reason).toMatch(/small-threshold/);
    expect(s?.reason).toContain('5');
    expect(m.groups.map((g) => g.id)).toEqual(['big.jsonl']);
    const w = warnings(entries).filter((e) => JSON.stringify(e).includes(small));
    expect(w.length, 'a warn line names the skipped file').toBeGreaterThanOrEqual(1);
    expect(w.some((e) => /small-threshold/.test(JSON.stringify(e))), 'the warning gives the reason').toBe(true);
    // none of its examples reach the output
    expect(linesOf(out).flatMap((l) => l.examples).some((e) => e.query.startsWith('tiny#'))).toBe(false);
  });

  it('upstream fault 5: a trailing slash on a *no_in_batch_neg directory argument keeps no_in_batch_neg: true', async () => {
    const root = tmp();
    const dir = path.join(root, 'classification-no_in_batch_neg');
    writeJsonl(path.join(dir, 'amazon.jsonl'), recs('amazon', 8, { type: 'symmetric_class' }));
    writeJsonl(path.join(dir, 'banking.jsonl'), recs('banking', 6, { type: 'symmetric_class' }));
    writeJsonl(path.join(dir, 'e.jsonl'), recs('e', 2, { type: 'symmetric_class' }));
    writeJsonl(path.join(dir, 't.jsonl'), recs('t', 2, { type: 'symmetric_class' }));
    const plain = writeJsonl(path.join(root, 'plain', 'p.jsonl'), recs('p', 4));

    for (const suffix of ['/', '//', '/.', '']) {
      const out = path.join(root, `out${suffix.length}${suffix === '/.' ? 'dot' : ''}`);
      await run([`${dir}${suffix}`, path.dirname(plain)], { out, batchSize: 4, smallThreshold: 4 });
      const m = manifestOf(out);
      const mine = m.groups.filter((g) => g.id.startsWith('classification-no_in_batch_neg/'));
      expect(mine.map((g) => g.id).sort(), `argument ${dir}${suffix}`).toEqual(
        ['classification-no_in_batch_neg/<small:symmetric_class>', 'classification-no_in_batch_neg/amazon.jsonl', 'classification-no_in_batch_neg/banking.jsonl'].sort(),
      );
      for (const g of mine) expect(g.no_in_batch_neg, `${g.id} with argument ${dir}${suffix}`).toBe(true);
      for (const i of m.inputs.filter((x) => x.id.startsWith('classification-no_in_batch_neg/'))) expect(i.no_in_batch_neg).toBe(true);
      for (const l of linesOf(out)) {
        expect(l.no_in_batch_neg, `step ${l.step} ${l.group}`).toBe(l.group.startsWith('classification-no_in_batch_neg/'));
      }
    }
  });

  it('upstream fault 6: the example cap keeps the same subset of a file when another file is added or arguments are reordered', async () => {
    const x = recs('x', 30, { type: 'normal' });
    const y = recs('y', 25, { type: 'normal' });
    const w = recs('w', 40, { type: 'normal' });
    const other = recs('other', 20, { type: 'normal' });
    const opts = { batchSize: 5, maxExamplesPerDataset: 10, seed: 1234 };

    /** The examples of X written in epoch 0 (the whole kept subset: 10 = 2 batches of 5, no tail). */
    const keptOfX = (out: string): string[] => {
      const m = manifestOf(out);
      const gx = m.groups.find((g) => g.id === 'data/x.jsonl');
      expect(gx?.examples).toBe(10);
      expect(gx?.tail_left_out_per_epoch).toBe(0);
      return linesOf(out)
        .filter((l) => l.group === 'data/x.jsonl' && l.epoch === 0)
        .flatMap((l) => l.examples.map((e) => e.query))
        .sort();
    };

    // run 1: data/{x,y}
    const r1 = tmp();
    writeJsonl(path.join(r1, 'data', 'x.jsonl'), x);
    writeJsonl(path.join(r1, 'data', 'y.jsonl'), y);
    await run([path.join(r1, 'data')], { ...opts, out: path.join(r1, 'out') });
    const base = keptOfX(path.join(r1, 'out'));
    expect(base).toHaveLength(10);
    expect(new Set(base).size).toBe(10);
    // a random subset, not the first ten records
    expect(base).not.toEqual(x.slice(0, 10).map((r) => r.query).sort());

    // run 2: a larger file listed before x is added (it would draw first from a shared stream)
    const r2 = tmp();
    writeJsonl(path.join(r2, 'data', 'a.jsonl'), w);
    writeJsonl(path.join(r2, 'data', 'x.jsonl'), x);
    writeJsonl(path.join(r2, 'data', 'y.jsonl'), y);
    await run([path.join(r2, 'data')], { ...opts, out: path.join(r2, 'out') });
    expect(keptOfX(path.join(r2, 'out'))).toEqual(base);

    // run 3 and 4: another argument before or after the directory
    const r3 = tmp();
    writeJsonl(path.join(r3, 'data', 'x.jsonl'), x);
    writeJsonl(path.join(r3, 'data', 'y.jsonl'), y);
    const o = writeJsonl(path.join(r3, 'other.jsonl'), other);
    await run([o, path.join(r3, 'data')], { ...opts, out: path.join(r3, 'out-1') });
    await run([path.join(r3, 'data'), o], { ...opts, out: path.join(r3, 'out-2') });
    expect(keptOfX(path.join(r3, 'out-1'))).toEqual(base);
    expect(keptOfX(path.join(r3, 'out-2'))).toEqual(base);
  });

  it('upstream fault 7: nested directories are reported in manifest.passed_over without --recursive and read with it', async () => {
    const root = tmp();
    const dir = path.join(root, 'data');
    writeJsonl(path.join(dir, 'top.jsonl'), recs('top', 8));
    writeJsonl(path.join(dir, 'sub', 'inner.jsonl'), recs('inner', 6));
    writeJsonl(path.join(dir, 'sub', 'deeper', 'd.jsonl'), recs('deep', 4));

    const { logger, entries } = capturingLogger('info');
    const out1 = path.join(root, 'out-flat');
    await run([dir], { out: out1, batchSize: 2 }, logger);
    const m1 = manifestOf(out1);
    expect(m1.passed_over).toHaveLength(1);
    expect(m1.passed_over[0]?.path).toBe(`${dir}/sub`);
    expect(m1.passed_over[0]?.reason).toMatch(/recursive/);
    expect(m1.inputs.map((i) => i.path)).toEqual([`${dir}/top.jsonl`]);
    expect(warnings(entries).some((e) => JSON.stringify(e).includes(`${dir}/sub`)), 'a warn line names the passed-over directory').toBe(true);
    expect(linesOf(out1).flatMap((l) => l.examples).every((e) => e.query.startsWith('top#'))).toBe(true);

    const out2 = path.join(root, 'out-rec');
    await run([dir], { out: out2, batchSize: 2, recursive: true });
    const m2 = manifestOf(out2);
    expect(m2.passed_over).toEqual([]);
    expect(m2.inputs.map((i) => i.path).sort()).toEqual([`${dir}/sub/deeper/d.jsonl`, `${dir}/sub/inner.jsonl`, `${dir}/top.jsonl`].sort());
    expect(m2.groups.map((g) => g.id).sort()).toEqual(['data/sub/deeper/d.jsonl', 'data/sub/inner.jsonl', 'data/top.jsonl'].sort());
    const queries = linesOf(out2).flatMap((l) => l.examples.map((e) => e.query));
    expect(queries).toHaveLength(18);
    expect(queries.filter((q) => q.startsWith('inner#'))).toHaveLength(6);
    expect(queries.filter((q) => q.startsWith('deep#'))).toHaveLength(4);
  });

  it('upstream fault 8: default batch size 1 with symmetric data is E_BATCH_SIZE_ZERO naming the file', async () => {
    const root = tmp();
    const sts = writeJsonl(path.join(root, 'sts', 'sts.jsonl'), recs('sts', 10, { type: 'symmetric_sts' }));
    const normal = writeJsonl(path.join(root, 'retrieval', 'nq.jsonl'), recs('nq', 10, { type: 'normal' }));
    const out = path.join(root, 'out');

    const err = await runFails([path.dirname(normal), sts], { out, batchSize: 1 });
    expect(err.code).toBe('E_BATCH_SIZE_ZERO');
    expect(err.exitCode).toBe(1);
    expect(err.message).toContain(sts);
    expect(err.location?.file).toBe(sts);
    expect(fs.existsSync(out), 'nothing written').toBe(false);

    // inside a directory too
    const clsDir = path.join(root, 'cls');
    const cls = writeJsonl(path.join(clsDir, 'amazon.jsonl'), recs('amazon', 6, { type: 'symmetric_class' }));
    const err2 = await runFails([clsDir], { out, batchSize: 1 });
    expect(err2.code).toBe('E_BATCH_SIZE_ZERO');
    expect(err2.message).toContain(cls);

    // a batch_size field on the data is the way out
    const sts2 = writeJsonl(path.join(root, 'sts2', 'sts.jsonl'), recs('sts2', 10, { type: 'symmetric_sts', batch_size: 1 }));
    await run([sts2], { out, batchSize: 1 });
    expect(manifestOf(out).groups.map((g) => g.batch_size)).toEqual([1]);
  });

  it('upstream fault 9: an empty data file is skipped with a reason and the run continues', async () => {
    const root = tmp();
    const dir = path.join(root, 'data');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'empty.jsonl'), '');
    fs.writeFileSync(path.join(dir, 'blank.jsonl'), '\n  \n\r\n');
    fs.writeFileSync(path.join(dir, 'empty.json'), '');
    writeJsonl(path.join(dir, 'good.jsonl'), recs('good', 6));
    const emptyArg = path.join(root, 'empty-arg.jsonl');
    fs.writeFileSync(emptyArg, '');
    const out = path.join(root, 'out');
    const { logger, entries } = capturingLogger('info');
    await run([dir, emptyArg], { out, batchSize: 2 }, logger);

    const m = manifestOf(out);
    const skipped = [...m.skipped].sort((a, b) => (a.path < b.path ? -1 : 1));
    expect(skipped.map((s) => ({ path: s.path, records: s.records }))).toEqual(
      [`${dir}/blank.jsonl`, `${dir}/empty.json`, `${dir}/empty.jsonl`, emptyArg].sort().map((p) => ({ path: p, records: 0 })),
    );
    for (const s of skipped) expect(s.reason).toMatch(/empty/i);
    for (const s of skipped) {
      expect(warnings(entries).some((e) => JSON.stringify(e).includes(s.path)), `a warn line names ${s.path}`).toBe(true);
    }
    expect(m.groups.map((g) => g.id)).toEqual(['data/good.jsonl']);
    expect(linesOf(out)).toHaveLength(3);
  });

  it('upstream fault 10: tails are reported per group, and zero batches fail at once with E_NO_BATCHES and a per-group table', async () => {
    const root = tmp();
    const dir = path.join(root, 'data');
    writeJsonl(path.join(dir, 'ten.jsonl'), recs('ten', 10));
    writeJsonl(path.join(dir, 'seven.jsonl'), recs('seven', 7));
    writeJsonl(path.join(dir, 'eight.jsonl'), recs('eight', 8));
    const out = path.join(root, 'out');
    const { logger, entries } = capturingLogger('info');
    await run([dir], { out, batchSize: 2, worldSize: 2, epochs: 2 }, logger);

    const m = manifestOf(out);
    const tails = Object.fromEntries(m.groups.map((g) => [g.id, [g.global_batch_size, g.batches_per_epoch, g.tail_left_out_per_epoch]]));
    expect(tails).toEqual({ 'data/eight.jsonl': [4, 2, 0], 'data/seven.jsonl': [4, 1, 3], 'data/ten.jsonl': [4, 2, 2] });
    expect(m.totals.tail_left_out_per_epoch).toBe(5);
    const w = warnings(entries);
    expect(w.some((e) => JSON.stringify(e).includes('data/ten.jsonl')), 'a warn line for the tail of data/ten.jsonl').toBe(true);
    expect(w.some((e) => JSON.stringify(e).includes('data/seven.jsonl')), 'a warn line for the tail of data/seven.jsonl').toBe(true);
    expect(w.some((e) => JSON.stringify(e).includes('data/eight.jsonl')), 'no tail, no warning for data/eight.jsonl').toBe(false);
    // per epoch, each group writes all but its tail
    const lines = linesOf(out);
    for (const e of [0, 1]) {
      const perGroup = new Map<string, number>();
      for (const l of lines.filter((x) => x.epoch === e)) perGroup.set(l.group, (perGroup.get(l.group) ?? 0) + l.examples.length);
      expect(Object.fromEntries(perGroup)).toEqual({ 'data/eight.jsonl': 8, 'data/seven.jsonl': 4, 'data/ten.jsonl': 8 });
    }

    // zero batches: every group is smaller than its global batch
    const out2 = path.join(root, 'out-none');
    const err = await runFails([dir], { out: out2, batchSize: 4, worldSize: 3 });
    expect(err.code).toBe('E_NO_BATCHES');
    expect(err.exitCode).toBe(1);
    expect(fs.existsSync(out2), 'nothing written').toBe(false);
    const detail = err.detail ?? '';
    const rows = detail.split('\n');
    for (const [id, n] of [['data/ten.jsonl', 10], ['data/seven.jsonl', 7], ['data/eight.jsonl', 8]] as const) {
      const row = rows.find((r) => r.includes(id));
      expect(row, `table row for ${id} in:\n${detail}`).toBeDefined();
      expect(row).toMatch(new RegExp(`\\b${n}\\b`));
      expect(row).toMatch(/\b12\b/);
    }
    // no groups at all (everything skipped) is the same error, with an explanation
    const emptyDir = path.join(root, 'empties');
    fs.mkdirSync(emptyDir);
    fs.writeFileSync(path.join(emptyDir, 'e.jsonl'), '');
    const err3 = await runFails([emptyDir], { out: out2 });
    expect(err3.code).toBe('E_NO_BATCHES');
    expect((err3.detail ?? '').length).toBeGreaterThan(0);
  });
});
