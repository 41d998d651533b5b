/**
 * Golden tests of the two layouts (global lines, --per-rank) and the two formats (raw, --format
 * flag). Expected values are derived by hand from the rules in README ("Trainer-ready output").
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildOk, readManifest, removeTempDirs, run, tempDir } from './helpers.js';

afterAll(removeTempDirs);

interface Line {
  epoch: number;
  step: number;
  group: string;
  type: string | null;
  batch_size: number;
  world_size: number;
  rank?: number;
  no_in_batch_neg: boolean;
  provenance?: string[];
  examples?: Record<string, unknown>[];
  train_group_size?: number;
  queries?: string[];
  passages?: string[];
  teacher_scores?: number[] | null;
}

function lines(file: string): Line[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);
}

function allLines(out: string, prefix = ''): Line[] {
  const m = readManifest(out) as unknown as { shards: { file: string }[] };
  return m.shards.filter((s) => s.file.startsWith(prefix)).flatMap((s) => lines(path.join(out, s.file)));
}

function writeJsonl(file: string, records: unknown[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

const COMMON = ['fixtures/retrieval', 'fixtures/sts/sts.jsonl', 'fixtures/classification-no_in_batch_neg', '--batch-size', '4', '--world-size', '2', '--epochs', '2', '--log-level', 'warn'];

describe('--per-rank', () => {
  it('rank r, line k is the slice [r*b, (r+1)*b) of global line k; all ranks share shard boundaries', () => {
    const dir = tempDir();
    const glob = path.join(dir, 'global');
    const per = path.join(dir, 'per-rank');
    buildOk([...COMMON, '--provenance', '--shard-max-batches', '7', '--out', glob]);
    buildOk([...COMMON, '--provenance', '--shard-max-batches', '7', '--per-rank', '--out', per]);
    const g = allLines(glob);
    const m = readManifest(per) as unknown as { layout: { ranks: string; rank_dirs: string[] }; totals: { steps: number }; shards: { file: string; rank: number; first_step: number; batches: number }[] };
    expect(m.layout.ranks).toBe('per-rank');
    expect(m.layout.rank_dirs).toEqual(['rank-00000', 'rank-00001']);
    for (const r of [0, 1]) {
      const mine = allLines(per, `rank-0000${r}/`);
      expect(mine).toHaveLength(g.length);
      mine.forEach((line, k) => {
        const whole = g[k]!;
        const b = whole.batch_size;
        expect(line.rank).toBe(r);
        expect(line.step).toBe(k);
        expect({ ...line, rank: undefined, examples: undefined, provenance: undefined }).toEqual({ ...whole, examples: undefined, provenance: undefined });
        expect(line.examples).toEqual(whole.examples!.slice(r * b, (r + 1) * b));
        expect(line.provenance).toEqual(whole.provenance!.slice(r * b, (r + 1) * b));
      });
    }
    const boundaries = (r: number): [number, number][] => m.shards.filter((s) => s.rank === r).map((s) => [s.first_step, s.batches]);
    expect(boundaries(0)).toEqual(boundaries(1));
    expect(boundaries(0).map(([, n]) => n).every((n) => n <= 7)).toBe(true);
    expect(boundaries(0).reduce((n, [, b]) => n + b, 0)).toBe(m.totals.steps);
  });

  it('refuses --out - (exit 2)', () => {
    const r = run(['build', 'fixtures/sts/sts.jsonl', '--per-rank', '--world-size', '2', '--out', '-']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/samebatch: error E_USAGE: --per-rank writes one directory per rank/);
  });
});

describe('--format flag', () => {
  it('golden: only_1neg takes 2 passages (the positive, then the negative), instructions applied, scores aligned', () => {
    const dir = tempDir();
    // Two only_1neg records, one positive and one negative each: every draw is forced, so the
    // whole line is known by hand.
    writeJsonl(path.join(dir, 'nli.jsonl'), [
      { query: 'a man plays', pos: ['someone plays'], neg: ['nobody plays'], pos_scores: [9], neg_scores: [1], prompt: 'Retrieve similar text.', type: 'only_1neg' },
      { query: 'a dog runs', pos: ['an animal runs'], neg: ['a cat sleeps'], pos_scores: [8], neg_scores: [2], type: 'only_1neg' },
    ]);
    const out = path.join(dir, 'out');
    buildOk(['nli.jsonl', '--batch-size', '2', '--format', 'flag', '--knowledge-distillation', '--query-instruction', 'Q: ', '--query-instruction-format', '<i>{}</i>{}', '--passage-instruction', 'P: ', '--out', out, '--log-level', 'warn'], { cwd: dir });
    const [line] = allLines(out);
    const first = line!.queries![0]!.startsWith('<i>Retrieve') ? 0 : 1;
    // The record's prompt wins over --query-instruction; passages use the default {}{} template.
    const expected = [
      { q: '<i>Retrieve similar text.</i>a man plays', p: ['P: someone plays', 'P: nobody plays'], s: [9, 1] },
      { q: '<i>Q: </i>a dog runs', p: ['P: an animal runs', 'P: a cat sleeps'], s: [8, 2] },
    ];
    // Which record comes first is the shuffle's choice; everything else is fixed.
    const order = first === 0 ? [0, 1] : [1, 0];
    expect(line).toMatchObject({ type: 'only_1neg', batch_size: 2, world_size: 1, train_group_size: 2, no_in_batch_neg: false });
    expect(line!.queries).toEqual(order.map((i) => expected[i]!.q));
    expect(line!.passages).toEqual(order.flatMap((i) => expected[i]!.p));
    expect(line!.teacher_scores).toEqual(order.flatMap((i) => expected[i]!.s));
    expect('examples' in line!).toBe(false);
  });

  it('passages per query: symmetric_class min(first negatives + 1, --train-group-size); a record field overrides; repetition only when short', () => {
    const dir = tempDir();
    writeJsonl(path.join(dir, 'cls.jsonl'), Array.from({ length: 4 }, (_, i) => ({ query: `c${i}`, pos: ['yes'], neg: ['n1', 'n2'], type: 'symmetric_class' })));
    writeJsonl(path.join(dir, 'ret.jsonl'), Array.from({ length: 4 }, (_, i) => ({ query: `r${i}`, pos: ['p'], neg: ['a', 'b', 'c', 'd', 'e'], train_group_size: 4 })));
    writeJsonl(path.join(dir, 'short.jsonl'), Array.from({ length: 4 }, (_, i) => ({ query: `s${i}`, pos: ['p'], neg: ['x', 'y'] })));
    const out = path.join(dir, 'out');
    buildOk(['cls.jsonl', 'ret.jsonl', 'short.jsonl', '--batch-size', '4', '--format', 'flag', '--train-group-size', '6', '--out', out, '--log-level', 'warn'], { cwd: dir });
    const byGroup = new Map(allLines(out).map((l) => [l.group, l]));
    // symmetric_class: batch size 4 / 2 = 2 (two lines); min(2 + 1, 6) = 3 passages per query.
    const cls = allLines(out).filter((l) => l.group === 'cls.jsonl');
    expect(cls).toHaveLength(2);
    for (const l of cls) {
      expect(l.train_group_size).toBe(3);
      for (let q = 0; q < 2; q++) expect(l.passages!.slice(q * 3, q * 3 + 3).sort()).toEqual(['n1', 'n2', 'yes']);
    }
    // train_group_size field 4: the positive and 3 distinct negatives of 5.
    const ret = byGroup.get('ret.jsonl')!;
    expect(ret.train_group_size).toBe(4);
    for (let q = 0; q < 4; q++) {
      const group = ret.passages!.slice(q * 4, q * 4 + 4);
      expect(group[0]).toBe('p');
      expect(new Set(group.slice(1)).size).toBe(3);
      expect(group.slice(1).every((n) => ['a', 'b', 'c', 'd', 'e'].includes(n))).toBe(true);
    }
    // --train-group-size 6 from 2 negatives: 5 drawn with repetition, each negative at least twice.
    const short = byGroup.get('short.jsonl')!;
    expect(short.train_group_size).toBe(6);
    for (let q = 0; q < 4; q++) {
      const negs = short.passages!.slice(q * 6 + 1, q * 6 + 6);
      expect(negs).toHaveLength(5);
      expect(negs.filter((n) => n === 'x').length).toBeGreaterThanOrEqual(2);
      expect(negs.filter((n) => n === 'y').length).toBeGreaterThanOrEqual(2);
    }
    expect(short.teacher_scores).toBeNull();
  });

  it('symmetric_sts passages take the query instruction; draws are seeded: same bytes on re-run, new draws each epoch', () => {
    const dir = tempDir();
    writeJsonl(path.join(dir, 'sts.jsonl'), Array.from({ length: 6 }, (_, i) => ({ query: `q${i}`, pos: ['p1', 'p2', 'p3'], neg: ['n1', 'n2', 'n3', 'n4'], prompt: 'Same?', type: 'symmetric_sts' })));
    const outs = ['a', 'b'].map((n) => {
      const out = path.join(dir, n);
      buildOk(['sts.jsonl', '--batch-size', '12', '--epochs', '3', '--format', 'flag', '--train-group-size', '3', '--query-instruction-format', '[{}] {}', '--out', out, '--log-level', 'warn'], { cwd: dir });
      return out;
    });
    expect(fs.readFileSync(path.join(outs[0]!, 'batches-00000.jsonl'))).toEqual(fs.readFileSync(path.join(outs[1]!, 'batches-00000.jsonl')));
    const ls = allLines(outs[0]!);
    expect(ls).toHaveLength(3);
    for (const l of ls) {
      expect(l.batch_size).toBe(6);
      expect(l.passages!.every((p) => /^\[Same\?\] [pn]\d$/.test(p))).toBe(true);
      expect(l.queries!.every((q) => /^\[Same\?\] q\d$/.test(q))).toBe(true);
    }
    const drawsOf = (l: Line): string => [...l.queries!.keys()].map((i) => `${l.queries![i]}=${l.passages!.slice(i * 3, i * 3 + 3).join(',')}`).sort().join(';');
    expect(new Set(ls.map(drawsOf)).size).toBe(3);
  });

  it('global flag lines split into rank slices by queries (b) and passages (b × group size)', () => {
    const dir = tempDir();
    const glob = path.join(dir, 'g');
    const per = path.join(dir, 'p');
    const args = ['fixtures/retrieval', '--batch-size', '2', '--world-size', '3', '--format', 'flag', '--train-group-size', '3', '--knowledge-distillation', '--log-level', 'warn'];
    buildOk([...args, '--out', glob]);
    buildOk([...args, '--per-rank', '--out', per]);
    const g = allLines(glob);
    for (const r of [0, 1, 2]) {
      const mine = allLines(per, `rank-0000${r}/`);
      mine.forEach((l, k) => {
        const whole = g[k]!;
        const b = whole.batch_size;
        const n = whole.train_group_size!;
        expect(whole.queries).toHaveLength(b * 3);
        expect(l.queries).toEqual(whole.queries!.slice(r * b, (r + 1) * b));
        expect(l.passages).toEqual(whole.passages!.slice(r * b * n, (r + 1) * b * n));
        expect(l.teacher_scores).toEqual(whole.teacher_scores!.slice(r * b * n, (r + 1) * b * n));
      });
    }
  });
});
