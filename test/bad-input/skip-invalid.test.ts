/**
 * --skip-invalid (skip/, written by make-corpus.mjs): files mixing good and bad records build;
 * the manifest counts the skipped records of each file per code with the first locations; standard
 * error has exactly one warning per file with invalid records; a file whose records are all invalid
 * is reported as empty.
 *
 *   mixed.jsonl       10 good; bad at 3 (E_JSON), 5 (E_FIELD), 6 (E_NOT_OBJECT), 9 (E_UTF8),
 *                     12 (E_FIELD), 14 (E_NO_NEGATIVES), 17 (E_NOT_OBJECT)
 *   few-bad.jsonl     8 good; bad at 5 (E_FIELD: empty pos)
 *   clean.jsonl       8 good
 *   all-bad.jsonl     bad at 1 (E_JSON), 2 (E_FIELD), 3 (E_NOT_OBJECT), 4 (E_NO_NEGATIVES)
 *   array-mixed.json  7 good; bad elements at lines 4 (E_FIELD: neg missing) and 6 (E_NOT_OBJECT)
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { alarming, errorLines, logLines, REPO, removeDir, run, tempDir, tmpSiblings, type RunResult } from './helpers.js';

const SKIP = path.join(REPO, 'test', 'bad-input', 'skip');
const FILES = ['mixed.jsonl', 'few-bad.jsonl', 'clean.jsonl', 'all-bad.jsonl', 'array-mixed.json'];

interface Invalid {
  count: number;
  codes: Record<string, number>;
  first: string[];
}
interface Manifest {
  totals: { records: number; records_invalid: number; steps: number };
  inputs: { path: string; records: number; kept: number; invalid: Invalid | null; group: string | null }[];
  skipped: { path: string; records: number; reason: string }[];
}

let root = '';
let out = '';
let result: RunResult = { status: null, signal: null, stdout: '', stderr: '' };
let manifest: Manifest = { totals: { records: 0, records_invalid: 0, steps: 0 }, inputs: [], skipped: [] };

beforeAll(async () => {
  root = tempDir('skip-invalid');
  out = path.join(root, 'out');
  result = await run(['build', ...FILES, '--skip-invalid', '--batch-size', '1', '--out', out], { cwd: SKIP });
  if (result.status === 0) manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as Manifest;
});

afterAll(() => {
  if (root !== '') removeDir(root);
});

function input(p: string): Manifest['inputs'][number] {
  const i = manifest.inputs.find((x) => x.path === p);
  if (!i) throw new Error(`no input ${p} in the manifest`);
  return i;
}

describe('--skip-invalid', () => {
  test('the build succeeds', () => {
    expect(result.status, result.stderr).toBe(0);
    expect(errorLines(result.stderr)).toEqual([]);
    expect(alarming(result.stderr)).toEqual([]);
    expect(tmpSiblings(out)).toEqual([]);
  });

  test('mixed.jsonl: count, per-code counts and the first five locations', () => {
    const i = input('mixed.jsonl');
    expect(i.records).toBe(10);
    expect(i.invalid?.count).toBe(7);
    expect(i.invalid?.codes).toEqual({ E_JSON: 1, E_FIELD: 2, E_NOT_OBJECT: 2, E_UTF8: 1, E_NO_NEGATIVES: 1 });
    const first = i.invalid?.first ?? [];
    expect(first).toHaveLength(5);
    const starts = ['mixed.jsonl:3:27: ', 'mixed.jsonl:5: ', 'mixed.jsonl:6: ', 'mixed.jsonl:9:13: ', 'mixed.jsonl:12: '];
    starts.forEach((s, k) => expect(first[k], `first[${k}]`).toMatch(new RegExp(`^${s.replace(/\./g, '\\.')}`)));
    expect(first[1]).toContain('field "neg"');
    expect(first[4]).toContain('field "query"');
  });

  test('few-bad.jsonl and array-mixed.json: counts and locations; clean.jsonl: none', () => {
    const f = input('few-bad.jsonl');
    expect(f.records).toBe(8);
    expect(f.invalid).toEqual({ count: 1, codes: { E_FIELD: 1 }, first: [expect.stringMatching(/^few-bad\.jsonl:5: .*field "pos"/)] });
    const a = input('array-mixed.json');
    expect(a.records).toBe(7);
    expect(a.invalid?.count).toBe(2);
    expect(a.invalid?.codes).toEqual({ E_FIELD: 1, E_NOT_OBJECT: 1 });
    expect(a.invalid?.first[0]).toMatch(/^array-mixed\.json:4: .*field "neg"/);
    expect(a.invalid?.first[1]).toMatch(/^array-mixed\.json:6: /);
    expect(input('clean.jsonl').invalid).toBeNull();
    expect(input('clean.jsonl').records).toBe(8);
  });

  test('a file whose every record is invalid is reported empty', () => {
    const i = input('all-bad.jsonl');
    expect(i.records).toBe(0);
    expect(i.group).toBeNull();
    expect(i.invalid?.count).toBe(4);
    expect(i.invalid?.codes).toEqual({ E_JSON: 1, E_FIELD: 1, E_NOT_OBJECT: 1, E_NO_NEGATIVES: 1 });
    const s = manifest.skipped.find((x) => x.path === 'all-bad.jsonl');
    expect(s, JSON.stringify(manifest.skipped)).toBeDefined();
    expect(s?.records).toBe(0);
    expect(s?.reason).toMatch(/^empty/);
  });

  test('totals and batches hold only the valid records', () => {
    expect(manifest.totals.records).toBe(10 + 8 + 8 + 0 + 7);
    expect(manifest.totals.records_invalid).toBe(7 + 1 + 0 + 4 + 2);
    expect(manifest.totals.steps).toBe(33);
    const shards = fs.readdirSync(out).filter((n) => n.startsWith('batches-')).sort();
    const queries = new Map<string, string[]>();
    for (const s of shards) {
      for (const line of fs.readFileSync(path.join(out, s), 'utf8').split('\n')) {
        if (line === '') continue;
        const b = JSON.parse(line) as { group: string; examples: { query: unknown }[] };
        for (const e of b.examples) queries.set(b.group, [...(queries.get(b.group) ?? []), String(e.query)]);
      }
    }
    const q = (...n: number[]): string[] => n.map((k) => `q${k}`).sort();
    expect(queries.get('mixed.jsonl')?.sort()).toEqual(q(1, 2, 4, 7, 8, 10, 11, 13, 15, 16));
    expect(queries.get('few-bad.jsonl')?.sort()).toEqual(q(1, 2, 3, 4, 6, 7, 8, 9));
    expect(queries.get('array-mixed.json')?.sort()).toEqual(q(1, 2, 4, 6, 7, 8, 9));
    expect(queries.has('all-bad.jsonl')).toBe(false);
  });

  test('standard error: exactly one warning per file with invalid records', () => {
    const warns = logLines(result.stderr).filter((l) => l.level === 40 && l.stage === 'index');
    const paths = warns.map((w) => String(w.path)).sort();
    expect(paths).toEqual(['all-bad.jsonl', 'array-mixed.json', 'few-bad.jsonl', 'mixed.jsonl']);
    const mixed = warns.find((w) => w.path === 'mixed.jsonl');
    expect(mixed?.invalid).toBe(7);
    expect(mixed?.msg).toContain('mixed.jsonl:3:27');
    // Nothing else at warn level names a skipped record (one warning per file, not per record).
    const perRecord = logLines(result.stderr).filter((l) => l.level >= 40 && /mixed\.jsonl:(5|6|9|12|14|17)\b/.test(l.msg));
    expect(perRecord).toEqual([]);
  });

  test('without --skip-invalid the same inputs fail at the first bad record, writing nothing', async () => {
    const o = path.join(root, 'strict');
    const r = await run(['build', ...FILES, '--batch-size', '1', '--out', o], { cwd: SKIP });
    expect(r.status).toBe(1);
    expect(errorLines(r.stderr)).toEqual([expect.stringMatching(/^samebatch: error E_JSON: mixed\.jsonl:3:27: /)]);
    expect(fs.existsSync(o)).toBe(false);
  });
});
