/**
 * SPEC invariants over real output for several option sets, teacher-score handling, the
 * per-dataset example cap, and determinism (same command, copied trees, other seeds).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  FIXTURES,
  README_INPUTS,
  REPO,
  buildOk,
  checkInvariants,
  concatShards,
  copyTree,
  countBatches,
  expectShardsMatchManifest,
  indexInputs,
  readBatches,
  readManifest,
  removeTempDirs,
  run,
  snapshotTree,
  sourceOf,
  tempDir,
  type BatchLine,
  type Manifest,
} from './helpers.js';

afterAll(removeTempDirs);

const README_OPTS = ['--batch-size', '4', '--small-threshold', '12', '--drop-threshold', '20'];

function buildInto(args: readonly string[], cwd?: string): { out: string; m: Manifest; lines: BatchLine[] } {
  const out = path.join(tempDir(), 'out');
  buildOk([...args, '--out', out], cwd === undefined ? {} : { cwd });
  const m = readManifest(out);
  expectShardsMatchManifest(out, m);
  return { out, m, lines: readBatches(out, m) };
}

describe('invariants over real output', () => {
  const input = indexInputs(README_INPUTS);

  const cases: { name: string; args: string[]; epochs: number; worldSize: number; cap?: number }[] = [
    { name: 'README options, --world-size 2, --provenance', args: [...README_OPTS, '--epochs', '2', '--world-size', '2', '--provenance'], epochs: 2, worldSize: 2 },
    { name: 'README options, --world-size 3, --epochs 3', args: [...README_OPTS, '--epochs', '3', '--world-size', '3'], epochs: 3, worldSize: 3 },
    { name: 'defaults (batch size 8, no thresholds), --epochs 3', args: ['--epochs', '3'], epochs: 3, worldSize: 1 },
    {
      name: '--max-examples-per-dataset 12, --world-size 2, --provenance, --seed 7',
      args: [...README_OPTS, '--max-examples-per-dataset', '12', '--world-size', '2', '--provenance', '--seed', '7'],
      epochs: 1,
      worldSize: 2,
      cap: 12,
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const { m, lines } = buildInto([...README_INPUTS, ...c.args]);
      expect(m.options).toMatchObject({ epochs: c.epochs, world_size: c.worldSize, max_examples_per_dataset: c.cap ?? null });
      checkInvariants(m, lines, input, c.cap === undefined ? { epochs: c.epochs, worldSize: c.worldSize } : { epochs: c.epochs, worldSize: c.worldSize, cap: c.cap });
      // every group with data is represented in every epoch; lines carry provenance only when asked
      expect(lines.every((l) => (l.provenance !== undefined) === c.args.includes('--provenance'))).toBe(true);
    });
  }

  it('the incomplete tail is a different random subset in different epochs', () => {
    const { m, lines } = buildInto([...README_INPUTS, ...README_OPTS, '--epochs', '3', '--world-size', '3', '--provenance']);
    const withTail = m.groups.filter((g) => g.tail_left_out_per_epoch > 0);
    expect(withTail.length).toBeGreaterThan(0);
    let differs = false;
    for (const g of withTail) {
      const all = new Set(g.members.flatMap((f) => input.records.filter((r) => r.file === f).map((r) => r.where)));
      const leftOut: string[] = [];
      for (let e = 0; e < 3; e++) {
        const used = new Set(lines.filter((l) => l.epoch === e && l.group === g.id).flatMap((l) => l.provenance ?? []));
        const out = [...all].filter((w) => !used.has(w)).sort();
        expect(out, `${g.id} epoch ${e} tail`).toHaveLength(g.tail_left_out_per_epoch);
        leftOut.push(out.join('|'));
      }
      if (new Set(leftOut).size > 1) differs = true;
    }
    expect(differs).toBe(true);
  });

  it('rank slices: rank r of a global batch is examples[r·b, (r+1)·b) and all of them come from one group', () => {
    const { lines } = buildInto([...README_INPUTS, ...README_OPTS, '--world-size', '3', '--provenance']);
    for (const l of lines) {
      const groupsOfRanks = new Set<string>();
      for (let r = 0; r < 3; r++) {
        const slice = l.examples.slice(r * l.batch_size, (r + 1) * l.batch_size);
        expect(slice).toHaveLength(l.batch_size);
        slice.forEach((_, i) => groupsOfRanks.add(sourceOf(l, r * l.batch_size + i, input).file.replace(/\/[^/]*$/, '')));
      }
      // one directory (and, by the invariants above, one group) per global batch
      expect(groupsOfRanks.size).toBe(1);
    }
  });
});

describe('teacher scores', () => {
  const retrieval = indexInputs(['fixtures/retrieval']);

  it('are removed without --knowledge-distillation', () => {
    const { m, lines } = buildInto(['fixtures/retrieval', '--batch-size', '4', '--provenance']);
    checkInvariants(m, lines, retrieval, { epochs: 1, worldSize: 1 });
    expect(lines.some((l) => l.examples.some((x) => 'pos_scores' in x || 'neg_scores' in x))).toBe(false);
  });

  it('are kept, equal to the input, with --knowledge-distillation on fixtures/retrieval', () => {
    const { m, lines } = buildInto(['fixtures/retrieval', '--batch-size', '4', '--world-size', '2', '--knowledge-distillation', '--provenance']);
    expect(m.options).toMatchObject({ knowledge_distillation: true });
    checkInvariants(m, lines, retrieval, { epochs: 1, worldSize: 2, knowledgeDistillation: true });
    expect(lines.length).toBeGreaterThan(0);
  });

  for (const arg of ['fixtures/sts/sts.jsonl', 'fixtures/classification-no_in_batch_neg', 'fixtures/clustering-no_in_batch_neg']) {
    it(`--knowledge-distillation on ${arg} (no scores) fails with exit 1 naming a file, writing nothing`, () => {
      const out = path.join(tempDir(), 'out');
      const r = run(['build', arg, '--knowledge-distillation', '--out', out]);
      expect(r.status).toBe(1);
      const file = arg.endsWith('.jsonl') ? arg : `${arg}/`;
      expect(r.stderr).toContain(file);
      expect(r.stderr).toMatch(/pos_scores|neg_scores/);
      expect(fs.existsSync(out)).toBe(false);
    });
  }

  it('the README inputs with --knowledge-distillation fail on the first file without scores', () => {
    const out = path.join(tempDir(), 'out');
    const r = run(['build', ...README_INPUTS, ...README_OPTS, '--knowledge-distillation', '--out', out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('fixtures/sts/sts.jsonl:1');
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe('per-dataset example cap', () => {
  /** The set of msmarco records in a run's first epoch (cap 8, batch size 4: no tail). */
  function keptOfMsmarco(args: string[]): string[] {
    const { m, lines } = buildInto([...args, '--max-examples-per-dataset', '8', '--batch-size', '4', '--provenance', '--epochs', '2']);
    const g = m.groups.find((x) => x.members.includes('fixtures/retrieval/msmarco.jsonl'));
    if (g === undefined) throw new Error('no msmarco group');
    expect(g.examples).toBe(8);
    expect(g.tail_left_out_per_epoch).toBe(0);
    const perEpoch = [0, 1].map((e) =>
      lines
        .filter((l) => l.epoch === e && l.group === g.id)
        .flatMap((l) => l.provenance ?? [])
        .sort(),
    );
    // the kept subset is fixed across epochs (only the order changes)
    expect(perEpoch[1]).toEqual(perEpoch[0]);
    return perEpoch[0] ?? [];
  }

  it('keeps N distinct records of a larger file, the same whatever other files are given and in what order', () => {
    const alone = keptOfMsmarco(['fixtures/retrieval/msmarco.jsonl']);
    expect(new Set(alone).size).toBe(8);
    expect(alone.every((w) => w.startsWith('fixtures/retrieval/msmarco.jsonl:'))).toBe(true);
    const after = keptOfMsmarco(['fixtures/retrieval/nq.jsonl', 'fixtures/retrieval/nli.jsonl', 'fixtures/retrieval/msmarco.jsonl']);
    const before = keptOfMsmarco(['fixtures/retrieval/msmarco.jsonl', 'fixtures/sts/sts.jsonl']);
    expect(after).toEqual(alone);
    expect(before).toEqual(alone);
  });

  it('keeps the same subset of a file when another file with the same base name is added before it', () => {
    // SPEC: the subset is "drawn from a stream keyed by that file alone, so the subset does not
    // change when other files are added or listed in another order".
    const dir = tempDir();
    for (const d of ['a', 'b']) fs.mkdirSync(path.join(dir, d));
    fs.copyFileSync(path.join(FIXTURES, 'retrieval', 'msmarco.jsonl'), path.join(dir, 'a', 'x.jsonl'));
    fs.copyFileSync(path.join(FIXTURES, 'retrieval', 'nli.jsonl'), path.join(dir, 'b', 'x.jsonl'));
    const keptOfA = (args: string[]): string[] => {
      const out = path.join(tempDir(), 'out');
      buildOk([...args, '--max-examples-per-dataset', '8', '--batch-size', '4', '--provenance', '--out', out], { cwd: dir });
      return readBatches(out)
        .flatMap((l) => l.provenance ?? [])
        .filter((w) => w.startsWith('a/x.jsonl:'))
        .sort();
    };
    const alone = keptOfA(['a/x.jsonl']);
    expect(alone).toHaveLength(8);
    expect(keptOfA(['a/x.jsonl', 'b/x.jsonl'])).toEqual(alone);
    expect(keptOfA(['b/x.jsonl', 'a/x.jsonl'])).toEqual(alone);
  });
});

describe('determinism', () => {
  const args = [...README_INPUTS, ...README_OPTS, '--epochs', '2', '--world-size', '2'];

  it('the same command twice gives byte-identical shards and manifest', () => {
    const a = buildInto(args);
    const b = buildInto(args);
    expect(snapshotTree(b.out)).toEqual(snapshotTree(a.out));
  });

  it('copies of the fixture tree made in opposite order with different mtimes give byte-identical output', () => {
    const dirA = tempDir();
    const dirB = tempDir();
    copyTree(FIXTURES, path.join(dirA, 'fixtures'), 'forward', new Date('2001-02-03T04:05:06Z'));
    copyTree(FIXTURES, path.join(dirB, 'fixtures'), 'reverse', new Date('2024-11-12T13:14:15Z'));
    const rel = [...args, '--provenance', '--out', 'out'];
    buildOk(rel, { cwd: dirA });
    buildOk(rel, { cwd: dirB });
    const a = snapshotTree(path.join(dirA, 'out'));
    const b = snapshotTree(path.join(dirB, 'out'));
    expect(a.size).toBeGreaterThan(1);
    expect(b).toEqual(a);
    // and the same as running in the repository with the same relative arguments
    const repo = buildInto([...args, '--provenance']);
    expect(snapshotTree(repo.out)).toEqual(a);
  });

  it('absolute paths from another working directory give the same shard bytes (ids come from base names)', () => {
    const rel = buildInto(args);
    const elsewhere = tempDir();
    const abs = buildInto([...README_INPUTS.map((a) => path.join(REPO, a)), ...args.slice(README_INPUTS.length)], elsewhere);
    expect(abs.m.groups.map((g) => g.id)).toEqual(rel.m.groups.map((g) => g.id));
    expect(concatShards(abs.out).equals(concatShards(rel.out))).toBe(true);
  });

  it('directory listings are in code-point order, not UTF-16 or locale order (upstream fault 1)', () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'd'));
    // created in an order unrelated to the expected one
    const names = ['😀', 'b', 'Ａ', 'é', 'a', 'Z'];
    for (const n of names) {
      fs.writeFileSync(path.join(dir, 'd', `${n}.jsonl`), [0, 1].map((i) => JSON.stringify({ query: `${n}${i}`, pos: ['p'], neg: ['n'] })).join('\n'));
    }
    fs.writeFileSync(path.join(dir, 'd', '.hidden.jsonl'), 'not even json\n');
    buildOk(['d', '--batch-size', '2', '--out', 'out'], { cwd: dir });
    // U+005A < U+0061 < U+0062 < U+00E9 < U+FF21 < U+1F600 (UTF-16 would put the emoji, D83D, before U+FF21)
    expect(readManifest(path.join(dir, 'out')).inputs.map((i) => i.path)).toEqual(['d/Z.jsonl', 'd/a.jsonl', 'd/b.jsonl', 'd/é.jsonl', 'd/Ａ.jsonl', 'd/😀.jsonl']);
  });

  it('a different --seed gives different bytes but the same per-group batch counts', () => {
    const a = buildInto(args);
    const b = buildInto([...args, '--seed', '43']);
    expect(concatShards(b.out).equals(concatShards(a.out))).toBe(false);
    expect(b.m.groups).toEqual(a.m.groups);
    expect(b.m.totals).toEqual(a.m.totals);
    expect(countBatches(b.lines)).toEqual(countBatches(a.lines));
    expect(b.m.options).toMatchObject({ seed: 43 });
    expect(a.m.options).toMatchObject({ seed: 42 });
  });
});
