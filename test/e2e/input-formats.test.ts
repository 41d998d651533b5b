/**
 * Input forms from SPEC's glossary and field table: .json arrays, gzip-compressed files, invalid
 * records with --skip-invalid, empty negatives, zero batch sizes and disagreeing fields.
 */
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  FIXTURES,
  WARN,
  buildOk,
  parseStderr,
  readBatches,
  readManifest,
  removeTempDirs,
  run,
  tempDir,
  type Example,
} from './helpers.js';

afterAll(removeTempDirs);

const rec = (q: string, extra: Record<string, unknown> = {}): Example => ({ query: q, pos: [`pos of ${q}`], neg: [`neg of ${q}`], ...extra });

describe('input forms', () => {
  it('a .json file holding one JSON array of objects; provenance names the line where each object starts', () => {
    const dir = tempDir();
    const recs = Array.from({ length: 6 }, (_, i) => rec(`arr${i}`));
    // pretty-printed: "[" on line 1, then each object spans 9 lines (see the layout below)
    const text = JSON.stringify(recs, null, 2);
    fs.writeFileSync(path.join(dir, 'arr.json'), text);
    const startLines = text
      .split('\n')
      .map((l, i) => (l === '  {' ? i + 1 : 0))
      .filter((n) => n > 0);
    expect(startLines).toHaveLength(6);
    buildOk(['arr.json', '--batch-size', '3', '--provenance', '--out', 'out'], { cwd: dir });
    const m = readManifest(path.join(dir, 'out'));
    expect(m.inputs).toEqual([expect.objectContaining({ path: 'arr.json', records: 6 })]);
    const lines = readBatches(path.join(dir, 'out'), m);
    expect(lines).toHaveLength(2); // 6 / 3
    const got = lines.flatMap((l) => l.examples.map((x, i) => [x, l.provenance?.[i]] as const));
    expect(got.map(([x]) => x).sort((a, b) => (a.query < b.query ? -1 : 1))).toEqual(recs);
    for (const [x, where] of got) expect(where).toBe(`arr.json:${startLines[Number(x.query.slice(3))]}`);
  });

  it('a .json file holding JSON Lines reads like .jsonl', () => {
    const dir = tempDir();
    const recs = Array.from({ length: 4 }, (_, i) => rec(`jl${i}`));
    fs.writeFileSync(path.join(dir, 'lines.json'), `${recs.map((r) => JSON.stringify(r)).join('\n')}\n`);
    buildOk(['lines.json', '--batch-size', '2', '--provenance', '--out', 'out'], { cwd: dir });
    const lines = readBatches(path.join(dir, 'out'));
    expect(lines).toHaveLength(2);
    for (const l of lines) l.examples.forEach((x, i) => expect(l.provenance?.[i]).toBe(`lines.json:${Number(x.query.slice(2)) + 1}`));
  });

  it('gzip-compressed .jsonl.gz gives the same batches (by content) as the plain file', () => {
    const dir = tempDir();
    const plain = fs.readFileSync(path.join(FIXTURES, 'sts', 'sts.jsonl'));
    fs.mkdirSync(path.join(dir, 'gz'));
    fs.mkdirSync(path.join(dir, 'plain'));
    fs.writeFileSync(path.join(dir, 'gz', 'sts.jsonl.gz'), gzipSync(plain));
    fs.writeFileSync(path.join(dir, 'plain', 'sts.jsonl'), plain);
    buildOk(['gz', '--batch-size', '4', '--provenance', '--out', 'out-gz'], { cwd: dir });
    buildOk(['plain', '--batch-size', '4', '--provenance', '--out', 'out-plain'], { cwd: dir });
    const gz = readBatches(path.join(dir, 'out-gz'));
    const pl = readBatches(path.join(dir, 'out-plain'));
    // 25 symmetric_sts records, 2 per device → 12 batches, tail 1
    expect(gz).toHaveLength(12);
    expect(readManifest(path.join(dir, 'out-gz')).inputs).toEqual([expect.objectContaining({ path: 'gz/sts.jsonl.gz', records: 25 })]);
    expect(pl).toHaveLength(12);
    // the same records overall (ids differ, so the shuffles may differ)
    const key = (ls: typeof gz): string[] => ls.flatMap((l) => l.examples.map((x) => JSON.stringify(x))).sort();
    const all = plain
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.stringify(JSON.parse(l)));
    expect(key(gz).every((k) => all.includes(k))).toBe(true);
    expect(new Set(key(gz)).size).toBe(24);
    // provenance line numbers refer to the decompressed lines
    for (const l of gz) {
      l.examples.forEach((x, i) => {
        const n = Number((l.provenance?.[i] ?? '').replace(/^gz\/sts\.jsonl\.gz:/, ''));
        expect(JSON.stringify(x)).toBe(all[n - 1]);
      });
    }
  });
});

describe('invalid records', () => {
  function writeWithTwoBad(dir: string): void {
    const lines = Array.from({ length: 10 }, (_, i) => JSON.stringify(rec(`ok${i}`)));
    lines.splice(3, 0, '{"query": "broken", ');
    lines.splice(7, 0, JSON.stringify({ query: 'no pos', pos: [], neg: ['n'] }));
    fs.writeFileSync(path.join(dir, 'mixed.jsonl'), `${lines.join('\n')}\n`);
  }

  it('without --skip-invalid the first one stops the run (exit 1, file:line, nothing written)', () => {
    const dir = tempDir();
    writeWithTwoBad(dir);
    const r = run(['build', 'mixed.jsonl', '--batch-size', '2', '--out', 'out'], { cwd: dir });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('mixed.jsonl:4');
    expect(fs.existsSync(path.join(dir, 'out'))).toBe(false);
  });

  it('with --skip-invalid they are skipped, warned about and counted in the manifest', () => {
    const dir = tempDir();
    writeWithTwoBad(dir);
    const r = buildOk(['mixed.jsonl', '--batch-size', '2', '--skip-invalid', '--out', 'out'], { cwd: dir });
    const warns = parseStderr(r.stderr).logs.filter((l) => l.level === WARN);
    expect(warns.some((w) => w.msg.includes('mixed.jsonl'))).toBe(true);
    const m = readManifest(path.join(dir, 'out'));
    const input = m.inputs[0] as (typeof m.inputs)[number] & { invalid?: { count: number; first: string[] } | null };
    expect(input.invalid?.count).toBe(2);
    expect(input.invalid?.first.join('\n')).toContain('mixed.jsonl:4');
    expect(input.invalid?.first.join('\n')).toContain('mixed.jsonl:8');
    // 10 good records, 2 per device → 5 batches
    expect(m.groups[0]).toMatchObject({ examples: 10, batches_per_epoch: 5, tail_left_out_per_epoch: 0 });
    const qs = readBatches(path.join(dir, 'out'), m).flatMap((l) => l.examples.map((x) => x.query)).sort();
    expect(qs).toEqual(Array.from({ length: 10 }, (_, i) => `ok${i}`).sort());
  });
});

describe('batch sizes and negatives', () => {
  it('--batch-size 1 makes a symmetric batch size 0: exit 1 naming the file (upstream fault 8)', () => {
    const r = run(['build', 'fixtures/sts/sts.jsonl', '--batch-size', '1', '--out', path.join(tempDir(), 'out')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('fixtures/sts/sts.jsonl');
  });

  it('records of one file that disagree on batch_size: exit 1 naming the file', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'bs.jsonl'), [rec('a', { batch_size: 2 }), rec('b', { batch_size: 2 }), rec('c', { batch_size: 3 })].map((r) => JSON.stringify(r)).join('\n'));
    const r = run(['build', 'bs.jsonl', '--out', 'out'], { cwd: dir });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('bs.jsonl:3');
    expect(fs.existsSync(path.join(dir, 'out'))).toBe(false);
  });

  it('an empty neg where negatives are sampled fails before anything runs, naming file:line (upstream fault 3)', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'noneg.jsonl'), [rec('a'), rec('b'), { query: 'c', pos: ['p'], neg: [] }, rec('d')].map((r) => JSON.stringify(r)).join('\n'));
    const r = run(['build', 'noneg.jsonl', '--batch-size', '2', '--out', 'out'], { cwd: dir });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('noneg.jsonl:3');
    expect(fs.existsSync(path.join(dir, 'out'))).toBe(false);
  });

  it('merged small files take the smallest member batch size', () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'd'));
    const file = (name: string, n: number, extra: Record<string, unknown>): void =>
      fs.writeFileSync(path.join(dir, 'd', name), Array.from({ length: n }, (_, i) => JSON.stringify(rec(`${name}${i}`, extra))).join('\n'));
    file('a.jsonl', 5, { batch_size: 5 });
    file('b.jsonl', 7, {});
    file('c.jsonl', 6, { batch_size: 2 });
    buildOk(['d', '--batch-size', '4', '--small-threshold', '10', '--out', 'out'], { cwd: dir });
    const m = readManifest(path.join(dir, 'out'));
    // a 5 (bs 5), b 7 (bs 4 default), c 6 (bs 2) all small, no type → one group d/<small> of 18, bs min = 2 → 9 batches
    expect(m.groups).toEqual([
      expect.objectContaining({ id: 'd/<small>', merged: true, examples: 18, batch_size: 2, batches_per_epoch: 9, tail_left_out_per_epoch: 0 }),
    ]);
  });
});
