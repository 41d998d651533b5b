/**
 * Property tests of the whole pipeline: random data trees on disk, random options, and the SPEC's
 * invariants checked against an independent model of discovery and grouping.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { build } from '../../src/build.js';
import { SamebatchError } from '../../src/errors.js';
import { createLogger } from '../../src/io/log.js';
import { resolveOptions } from '../../src/options.js';
import type { ManifestGroup } from '../../src/core/manifest.js';

// ---------------------------------------------------------------------------------------------
// scenario

const TYPES = ['normal', 'only_1neg', 'symmetric_sts', 'symmetric_class', 'symmetric_clustering', null] as const;
type TypeChoice = (typeof TYPES)[number];

interface FileSpec {
  records: number;
  type: TypeChoice;
  batchSize: number | null;
  prompt: boolean;
}

interface NamedFile {
  name: string;
  spec: FileSpec;
}

interface ArgSpec {
  kind: 'dir' | 'file';
  noInBatchNeg: boolean;
  files: NamedFile[];
}

interface Opts {
  batchSize: number;
  worldSize: number;
  epochs: number;
  small: number;
  drop: number;
  cap: number | null;
  seed: number;
  seedDelta: number;
  shardMaxBatches: number;
  shardMaxBytes: number;
}

interface Scenario {
  args: ArgSpec[];
  opts: Opts;
}

const fileSpecArb: fc.Arbitrary<FileSpec> = fc.record({
  records: fc.integer({ min: 0, max: 40 }),
  type: fc.constantFrom(...TYPES),
  batchSize: fc.option(fc.integer({ min: 1, max: 4 }), { nil: null, freq: 3 }),
  prompt: fc.boolean(),
});

// Mixed case, digits and '_' so that code-point order differs from locale order.
const nameArb = fc.stringMatching(/^[A-Za-z0-9_]{1,4}$/);

const dirArgArb: fc.Arbitrary<ArgSpec> = fc.record({
  kind: fc.constant<'dir'>('dir'),
  noInBatchNeg: fc.boolean(),
  files: fc.uniqueArray(fc.record({ name: nameArb, spec: fileSpecArb }), {
    minLength: 1,
    maxLength: 6,
    selector: (f) => f.name,
  }),
});

const fileArgArb: fc.Arbitrary<ArgSpec> = fc.record({
  kind: fc.constant<'file'>('file'),
  noInBatchNeg: fc.boolean(),
  files: fileSpecArb.map((spec) => [{ name: '', spec }]),
});

const argsArb: fc.Arbitrary<ArgSpec[]> = fc
  .tuple(fc.array(dirArgArb, { minLength: 1, maxLength: 3 }), fc.array(fileArgArb, { minLength: 0, maxLength: 2 }))
  .chain(([dirs, files]) => {
    const all = [...dirs, ...files];
    return fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length });
  });

const optsArb: fc.Arbitrary<Opts> = fc.record({
  batchSize: fc.integer({ min: 1, max: 8 }),
  worldSize: fc.integer({ min: 1, max: 4 }),
  epochs: fc.integer({ min: 1, max: 3 }),
  small: fc.integer({ min: 0, max: 30 }),
  drop: fc.integer({ min: 0, max: 30 }),
  cap: fc.option(fc.integer({ min: 1, max: 40 }), { nil: null }),
  seed: fc.integer({ min: -1000, max: 2 ** 31 - 1 }),
  seedDelta: fc.integer({ min: 1, max: 1_000_000 }),
  shardMaxBatches: fc.integer({ min: 0, max: 6 }),
  shardMaxBytes: fc.constantFrom(0, 1500, 128 * 1024 * 1024),
});

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({ args: argsArb, opts: optsArb });

// ---------------------------------------------------------------------------------------------
// writing the tree

interface Rec {
  query: string;
  pos: string[];
  neg: string[];
  prompt?: string;
  type?: string;
  batch_size?: number;
}

/** Base name of argument `i`. */
function argName(a: ArgSpec, i: number): string {
  const stem = a.kind === 'dir' ? `d${i}` : `f${i}`;
  const marked = a.noInBatchNeg ? `${stem}_no_in_batch_neg` : stem;
  return a.kind === 'dir' ? marked : `${marked}.jsonl`;
}

function fileName(f: NamedFile): string {
  return `${f.name}.jsonl`;
}

/** Query text prefix of a file: unique over the tree. */
function label(a: ArgSpec, i: number, f: NamedFile): string {
  return a.kind === 'dir' ? `${argName(a, i)}/${fileName(f)}` : argName(a, i);
}

function recordsOf(lab: string, spec: FileSpec): Rec[] {
  return Array.from({ length: spec.records }, (_, k) => {
    const q = `${lab}#${k}`;
    const r: Rec = { query: q, pos: [`pos of ${q}`], neg: [`neg of ${q}`, `neg2 of ${q}`] };
    if (spec.prompt) r.prompt = 'Represent this sentence: ';
    if (spec.type !== null) r.type = spec.type;
    if (spec.batchSize !== null) r.batch_size = spec.batchSize;
    return r;
  });
}

interface Tree {
  /** Command-line arguments (absolute). */
  args: string[];
  /** Every input record by query. */
  byQuery: Map<string, Rec>;
}

function writeTree(s: Scenario, inDir: string): Tree {
  const args: string[] = [];
  const byQuery = new Map<string, Rec>();
  s.args.forEach((a, i) => {
    const p = path.join(inDir, argName(a, i));
    args.push(p);
    if (a.kind === 'dir') fs.mkdirSync(p);
    for (const f of a.files) {
      const recs = recordsOf(label(a, i, f), f.spec);
      for (const r of recs) byQuery.set(r.query, r);
      const target = a.kind === 'dir' ? path.join(p, fileName(f)) : p;
      fs.writeFileSync(target, recs.map((r) => `${JSON.stringify(r)}\n`).join(''));
    }
  });
  return { args, byQuery };
}

// ---------------------------------------------------------------------------------------------
// the model: discovery and grouping as SPEC describes them, written independently

interface ModelFile {
  path: string;
  label: string;
  records: number;
  kept: number;
  capped: boolean;
  type: string | null;
  batchSize: number;
  noInBatchNeg: boolean;
}

interface ModelGroup {
  id: string;
  members: ModelFile[];
  size: number;
  batchSize: number;
  type: string | null;
  noInBatchNeg: boolean;
  merged: boolean;
}

interface Model {
  files: ModelFile[];
  groups: ModelGroup[];
  skipped: { path: string; records: number }[];
  dropped: { id: string; members: string[]; records: number }[];
}

function cmpCodePoints(a: string, b: string): number {
  const x = [...a].map((c) => c.codePointAt(0) ?? 0);
  const y = [...b].map((c) => c.codePointAt(0) ?? 0);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  }
  return x.length - y.length;
}

function model(s: Scenario, tree: Tree): Model {
  const o = s.opts;
  const files: ModelFile[] = [];
  const groups: ModelGroup[] = [];
  const skipped: Model['skipped'] = [];
  const dropped: Model['dropped'] = [];
  const perDeviceBatch = (spec: FileSpec): number =>
    spec.batchSize ?? (spec.type !== null && spec.type.includes('symmetric') ? Math.floor(o.batchSize / 2) : o.batchSize);

  s.args.forEach((a, i) => {
    const arg = tree.args[i] as string;
    const mk = (f: NamedFile, p: string): ModelFile => {
      const kept = o.cap === null ? f.spec.records : Math.min(f.spec.records, o.cap);
      return {
        path: p,
        label: label(a, i, f),
        records: f.spec.records,
        kept,
        capped: kept < f.spec.records,
        // an empty file has no first record, so no type
        type: f.spec.records === 0 ? null : f.spec.type,
        batchSize: perDeviceBatch(f.spec),
        noInBatchNeg: a.noInBatchNeg,
      };
    };
    if (a.kind === 'file') {
      const f = a.files[0] as NamedFile;
      const mf = mk(f, arg);
      files.push(mf);
      if (mf.kept === 0 || mf.kept < o.small) skipped.push({ path: mf.path, records: mf.kept });
      else groups.push({ id: argName(a, i), members: [mf], size: mf.kept, batchSize: mf.batchSize, type: mf.type, noInBatchNeg: mf.noInBatchNeg, merged: false });
      return;
    }
    const dirId = argName(a, i);
    const sorted = [...a.files].sort((x, y) => cmpCodePoints(fileName(x), fileName(y)));
    const small = new Map<string | null, ModelFile[]>();
    for (const f of sorted) {
      const mf = mk(f, `${arg}/${fileName(f)}`);
      files.push(mf);
      if (mf.kept === 0) skipped.push({ path: mf.path, records: 0 });
      else if (mf.kept >= o.small) {
        groups.push({ id: `${dirId}/${fileName(f)}`, members: [mf], size: mf.kept, batchSize: mf.batchSize, type: mf.type, noInBatchNeg: mf.noInBatchNeg, merged: false });
      } else {
        const list = small.get(mf.type) ?? [];
        list.push(mf);
        small.set(mf.type, list);
      }
    }
    for (const [type, members] of small) {
      const id = type === null ? `${dirId}/<small>` : `${dirId}/<small:${type}>`;
      const records = members.reduce((n, m) => n + m.kept, 0);
      if (records < o.drop) dropped.push({ id, members: members.map((m) => m.path), records });
      else {
        groups.push({
          id,
          members,
          size: records,
          batchSize: Math.min(...members.map((m) => m.batchSize)),
          type,
          noInBatchNeg: a.noInBatchNeg,
          merged: true,
        });
      }
    }
  });
  return { files, groups, skipped, dropped };
}

// ---------------------------------------------------------------------------------------------
// running samebatch

interface Line {
  epoch: number;
  step: number;
  epoch_step: number;
  group: string;
  type: string | null;
  batch_size: number;
  world_size: number;
  no_in_batch_neg: boolean;
  examples: (Rec & Record<string, unknown>)[];
}

interface ManifestShape {
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
  shards: { file: string; first_step: number; batches: number; examples: number; bytes: number; sha256: string }[];
}

const silent = createLogger('silent');

class Collect extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.chunks.push(Buffer.from(chunk));
    cb();
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

function options(o: Opts, out: string, seed: number): ReturnType<typeof resolveOptions> {
  return resolveOptions({
    out,
    batchSize: o.batchSize,
    worldSize: o.worldSize,
    epochs: o.epochs,
    smallThreshold: o.small,
    dropThreshold: o.drop,
    maxExamplesPerDataset: o.cap,
    seed,
    shardMaxBatches: o.shardMaxBatches,
    shardMaxBytes: o.shardMaxBytes,
  });
}

async function run(tree: Tree, o: Opts, out: string, seed: number = o.seed): Promise<{ ok: true } | { ok: false; err: unknown }> {
  try {
    await build(tree.args, options(o, out, seed), { logger: silent, stdout: new Collect() });
    return { ok: true };
  } catch (err) {
    return { ok: false, err };
  }
}

function readOut(out: string): { manifest: ManifestShape; manifestText: string; shards: Buffer; lines: Line[] } {
  const manifestText = fs.readFileSync(path.join(out, 'manifest.json'), 'utf8');
  const manifest = JSON.parse(manifestText) as ManifestShape;
  const shards = Buffer.concat(manifest.shards.map((s) => fs.readFileSync(path.join(out, s.file))));
  const text = shards.toString('utf8');
  expect(text === '' || text.endsWith('\n')).toBe(true);
  const lines = text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Line);
  return { manifest, manifestText, shards, lines };
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

function sortById<T extends { id: string }>(xs: readonly T[]): T[] {
  return [...xs].sort((a, b) => cmpCodePoints(a.id, b.id));
}

function labelOf(query: string): string {
  return query.slice(0, query.lastIndexOf('#'));
}

/** Per epoch: group → queries written. */
function writtenPerEpoch(lines: readonly Line[], epochs: number): Map<string, string[]>[] {
  const out = Array.from({ length: epochs }, () => new Map<string, string[]>());
  for (const l of lines) {
    const m = out[l.epoch];
    if (m === undefined) throw new Error(`line ${l.step}: epoch ${l.epoch} out of range`);
    const qs = m.get(l.group) ?? [];
    for (const ex of l.examples) qs.push(ex.query);
    m.set(l.group, qs);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// the property

function checkSuccess(s: Scenario, tree: Tree, m: Model, out: string): ReturnType<typeof readOut> {
  const o = s.opts;
  const r = readOut(out);
  const { manifest, lines } = r;

  // groups, skipped, dropped as the model says
  const expectGroups = sortById(m.groups).map((g) => ({
    id: g.id,
    merged: g.merged,
    members: g.members.map((f) => f.path),
    examples: g.size,
    type: g.type,
    no_in_batch_neg: g.noInBatchNeg,
    batch_size: g.batchSize,
    global_batch_size: g.batchSize * o.worldSize,
    batches_per_epoch: Math.floor(g.size / (g.batchSize * o.worldSize)),
    tail_left_out_per_epoch: g.size % (g.batchSize * o.worldSize),
  }));
  expect(sortById(manifest.groups)).toEqual(expectGroups);
  expect(manifest.skipped.map((x) => ({ path: x.path, records: x.records })).sort((a, b) => cmpCodePoints(a.path, b.path))).toEqual(
    [...m.skipped].sort((a, b) => cmpCodePoints(a.path, b.path)),
  );
  for (const x of manifest.skipped) expect(x.reason.length).toBeGreaterThan(0);
  expect(sortById(manifest.dropped).map((d) => ({ id: d.id, members: d.members, records: d.records }))).toEqual(sortById(m.dropped));
  for (const x of manifest.dropped) expect(x.reason.length).toBeGreaterThan(0);
  expect(manifest.inputs.map((x) => ({ path: x.path, records: x.records, kept: x.kept }))).toEqual(
    m.files.map((f) => ({ path: f.path, records: f.records, kept: f.kept })),
  );

  // shards: names, sizes, digests, step ranges
  const shardNames = fs
    .readdirSync(out)
    .filter((n) => n !== 'manifest.json')
    .sort();
  expect(shardNames).toEqual(manifest.shards.map((x) => x.file));
  let firstStep = 0;
  for (const sh of manifest.shards) {
    const bytes = fs.readFileSync(path.join(out, sh.file));
    expect(sha256(bytes), `${sh.file} sha256`).toBe(sh.sha256);
    expect(bytes.length).toBe(sh.bytes);
    const n = bytes.toString('utf8').split('\n').filter((l) => l !== '').length;
    expect(n).toBe(sh.batches);
    expect(sh.first_step).toBe(firstStep);
    if (o.shardMaxBatches > 0) expect(sh.batches).toBeLessThanOrEqual(o.shardMaxBatches);
    firstStep += sh.batches;
  }

  // lines
  const groupById = new Map(m.groups.map((g) => [g.id, g]));
  const groupOfLabel = new Map<string, string>();
  for (const g of m.groups) for (const f of g.members) groupOfLabel.set(f.label, g.id);
  const stepsPerEpoch = m.groups.reduce((n, g) => n + Math.floor(g.size / (g.batchSize * o.worldSize)), 0);
  expect(lines.length).toBe(stepsPerEpoch * o.epochs);
  expect(manifest.totals.steps).toBe(stepsPerEpoch * o.epochs);
  const seen = Array.from({ length: o.epochs }, () => new Set<string>());
  lines.forEach((l, k) => {
    expect(l.step, 'steps consecutive from 0 across shards').toBe(k);
    expect(l.epoch).toBe(Math.floor(k / stepsPerEpoch));
    expect(l.epoch_step).toBe(k % stepsPerEpoch);
    const g = groupById.get(l.group);
    if (g === undefined) throw new Error(`step ${k}: unknown group ${l.group}`);
    expect(l.type).toBe(g.type);
    expect(l.batch_size).toBe(g.batchSize);
    expect(l.world_size).toBe(o.worldSize);
    expect(l.no_in_batch_neg).toBe(g.noInBatchNeg);
    expect(l.examples.length, `step ${k}: batch_size × world_size`).toBe(g.batchSize * o.worldSize);
    const set = seen[l.epoch] as Set<string>;
    for (const ex of l.examples) {
      // one type per batch, by each example's own type field
      expect(ex.type ?? null, `step ${k}: ${ex.query} type`).toBe(l.type);
      // one group per batch
      expect(groupOfLabel.get(labelOf(ex.query)), `step ${k}: ${ex.query} belongs to ${l.group}`).toBe(l.group);
      expect(ex).toEqual(tree.byQuery.get(ex.query));
      expect(set.has(ex.query), `epoch ${l.epoch}: ${ex.query} twice`).toBe(false);
      set.add(ex.query);
    }
  });

  // accounting, per epoch
  const input = m.files.reduce((n, f) => n + f.records, 0);
  const capRemoved = manifest.inputs.reduce((n, x) => n + (x.records - x.kept), 0);
  expect(capRemoved).toBe(m.files.reduce((n, f) => n + (f.records - f.kept), 0));
  const tails = manifest.groups.reduce((n, g) => n + g.tail_left_out_per_epoch, 0);
  const skipped = manifest.skipped.reduce((n, x) => n + x.records, 0);
  const droppedN = manifest.dropped.reduce((n, x) => n + x.records, 0);
  expect(manifest.totals.records).toBe(input);
  for (let e = 0; e < o.epochs; e++) {
    const written = (seen[e] as Set<string>).size;
    expect(written + tails + skipped + droppedN + capRemoved, `epoch ${e} accounting`).toBe(input);
    expect(manifest.totals.examples_per_epoch).toBe(written);
  }
  return r;
}

function tmpRoot(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'samebatch-prop-'));
}

describe('build over random data trees', () => {
  it('keeps every SPEC invariant, is deterministic per seed, and keeps batch counts across seeds', async () => {
    const outcomes = { ok: 0, noBatches: 0, zeroBatch: 0 };
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (s) => {
        const root = tmpRoot();
        try {
          const inDir = path.join(root, 'in');
          fs.mkdirSync(inDir);
          const tree = writeTree(s, inDir);
          const m = model(s, tree);
          const o = s.opts;
          const outA = path.join(root, 'out-a');
          const a = await run(tree, o, outA);

          const zeroInGroup = m.groups.some((g) => g.batchSize === 0);
          const zeroAnywhere = m.files.some((f) => f.kept > 0 && f.batchSize === 0);
          if (!a.ok) {
            expect(a.err).toBeInstanceOf(SamebatchError);
            const err = a.err as SamebatchError;
            expect(fs.existsSync(outA), 'a failed run leaves no output').toBe(false);
            if (err.code === 'E_BATCH_SIZE_ZERO') {
              expect(zeroAnywhere, `unexpected E_BATCH_SIZE_ZERO: ${err.message}`).toBe(true);
              const named = m.files.filter((f) => f.kept > 0 && f.batchSize === 0).map((f) => f.path);
              expect(named.some((p) => err.message.includes(p)), `E_BATCH_SIZE_ZERO names a file: ${err.message}`).toBe(true);
              outcomes.zeroBatch++;
              return;
            }
            expect(zeroInGroup, `expected E_BATCH_SIZE_ZERO, got ${err.code}: ${err.message}`).toBe(false);
            expect(err.code, err.message).toBe('E_NO_BATCHES');
            const fills = m.groups.some((g) => g.size >= g.batchSize * o.worldSize);
            expect(fills, 'E_NO_BATCHES only when no group fills one global batch').toBe(false);
            expect(err.detail).toBeDefined();
            for (const g of m.groups) expect(err.detail).toContain(g.id);
            outcomes.noBatches++;
            return;
          }
          expect(zeroInGroup, 'a group with per-device batch size 0 must fail with E_BATCH_SIZE_ZERO').toBe(false);
          expect(m.groups.some((g) => g.size >= g.batchSize * o.worldSize), 'success only when some group fills a global batch').toBe(true);
          outcomes.ok++;
          const ra = checkSuccess(s, tree, m, outA);

          // same seed → same bytes, every file
          const outB = path.join(root, 'out-b');
          const b = await run(tree, o, outB);
          expect(b.ok).toBe(true);
          expect(fs.readdirSync(outB).sort()).toEqual(fs.readdirSync(outA).sort());
          for (const n of fs.readdirSync(outA)) {
            expect(fs.readFileSync(path.join(outB, n)).equals(fs.readFileSync(path.join(outA, n))), `${n} identical`).toBe(true);
          }

          // --out - gives the concatenated shards
          const stdout = new Collect();
          await build(tree.args, options(o, '-', o.seed), { logger: silent, stdout });
          expect(stdout.bytes().equals(ra.shards), '--out - bytes = concatenated shards').toBe(true);

          // another seed → the same batches per group per epoch; groups without tails (and no cap) write the same examples
          const outC = path.join(root, 'out-c');
          const c = await run(tree, o, outC, o.seed + o.seedDelta);
          expect(c.ok).toBe(true);
          const rc = checkSuccess(s, tree, m, outC);
          const counts = (lines: readonly Line[]): string[] => {
            const k = new Map<string, number>();
            for (const l of lines) k.set(`${l.epoch}\u0000${l.group}`, (k.get(`${l.epoch}\u0000${l.group}`) ?? 0) + 1);
            return [...k].map(([key, n]) => `${key}\u0000${n}`).sort();
          };
          expect(counts(rc.lines)).toEqual(counts(ra.lines));
          const wa = writtenPerEpoch(ra.lines, o.epochs);
          const wc = writtenPerEpoch(rc.lines, o.epochs);
          for (const g of m.groups) {
            const tail = g.size % (g.batchSize * o.worldSize);
            if (tail !== 0 || g.members.some((f) => f.capped)) continue;
            for (let e = 0; e < o.epochs; e++) {
              const x = [...((wa[e] as Map<string, string[]>).get(g.id) ?? [])].sort();
              const y = [...((wc[e] as Map<string, string[]>).get(g.id) ?? [])].sort();
              expect(y, `epoch ${e} ${g.id}: same examples under another seed`).toEqual(x);
              expect(x.length).toBe(g.size);
            }
          }
        } finally {
          fs.rmSync(root, { recursive: true, force: true });
        }
      }),
      { numRuns: 40 },
    );
    // The generator must exercise successful runs, not only failures.
    expect(outcomes.ok).toBeGreaterThan(0);
  });
});
