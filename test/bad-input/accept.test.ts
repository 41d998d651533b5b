/**
 * Good inputs in every accepted form (good/, written by make-corpus.mjs): the same eight records
 * as plain JSON Lines, with a byte-order mark, \r\n line ends, blank lines, no final newline, as a
 * .json array (pretty, compact, with BOM and \r\n), as JSON Lines in a .json file, and gzipped.
 * Each builds (exit 0) and gives exactly the examples of plain.jsonl.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { alarming, buildOk, REPO, removeDir, run, tempDir } from './helpers.js';

const GOOD = path.join(REPO, 'test', 'bad-input', 'good');
const CORPUS = path.join(REPO, 'test', 'bad-input', 'corpus');

const VARIANTS = [
  'bom.jsonl',
  'crlf.jsonl',
  'blank-lines.jsonl',
  'no-final-newline.jsonl',
  'bom-crlf-no-final-newline.jsonl',
  'array.json',
  'array-compact.json',
  'array-bom-crlf.json',
  'lines.json',
  'plain.jsonl.gz',
  'array.json.gz',
  'lines.json.gz',
] as const;

let root = '';
let plain: Built = { records: -1, examples: [], shardText: '' };

beforeAll(async () => {
  root = tempDir('accept');
  plain = await buildOne(GOOD, 'plain.jsonl');
});

afterAll(() => {
  if (root !== '') removeDir(root);
});

interface Built {
  records: number;
  examples: string[];
  shardText: string;
}

/** Builds one file with batch size 1 (every record is one batch) and reads the examples back. */
async function buildOne(cwd: string, file: string, extra: string[] = []): Promise<Built> {
  const out = path.join(root, `out-${file.replace(/[^A-Za-z0-9.]+/g, '_')}-${extra.join('_')}`);
  const r = await buildOk([file, '--batch-size', '1', '--out', out, '--log-level', 'warn', ...extra], { cwd });
  expect(alarming(r.stderr)).toEqual([]);
  const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as {
    inputs: { path: string; records: number; invalid: unknown }[];
  };
  const input = manifest.inputs[0];
  expect(input?.path).toBe(file);
  expect(input?.invalid).toBeNull();
  const shards = fs.readdirSync(out).filter((n) => n.startsWith('batches-')).sort();
  const shardText = shards.map((s) => fs.readFileSync(path.join(out, s), 'utf8')).join('');
  const examples = shardText
    .split('\n')
    .filter((l) => l !== '')
    .flatMap((l) => (JSON.parse(l) as { examples: unknown[] }).examples.map((e) => JSON.stringify(e)))
    .sort();
  return { records: input?.records ?? -1, examples, shardText };
}

describe('accepted input forms', () => {
  test('the files hold what their names say (version control kept the bytes)', () => {
    const read = (f: string): Buffer => fs.readFileSync(path.join(GOOD, f));
    expect([...read('bom.jsonl').subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(read('crlf.jsonl').toString('latin1').split('\r\n')).toHaveLength(9);
    expect(read('no-final-newline.jsonl').at(-1)).toBe(0x7d);
    expect(read('blank-lines.jsonl').toString('latin1')).toMatch(/\n\s*\n/);
    expect([...read('array-bom-crlf.json').subarray(0, 4)]).toEqual([0xef, 0xbb, 0xbf, 0x5b]);
    expect([...read('plain.jsonl.gz').subarray(0, 2)]).toEqual([0x1f, 0x8b]);
  });

  test.concurrent.each(VARIANTS.map((v) => [v] as const))('%s builds and gives the examples of plain.jsonl', async (variant) => {
    const got = await buildOne(GOOD, variant);
    expect(plain.records).toBe(8);
    expect(plain.examples).toHaveLength(8);
    expect(got.records).toBe(8);
    expect(got.examples).toEqual(plain.examples);
    // Records are copied byte for byte: no byte-order mark or carriage return leaks into a line.
    expect(got.shardText).not.toContain('\ufeff');
    expect(got.shardText).not.toContain('\r');
  });

  test('JSON Lines variants copy each record byte for byte', async () => {
    const plain = fs.readFileSync(path.join(GOOD, 'plain.jsonl'), 'utf8').split('\n').filter((l) => l !== '').sort();
    for (const v of ['bom.jsonl', 'crlf.jsonl', 'no-final-newline.jsonl', 'bom-crlf-no-final-newline.jsonl', 'plain.jsonl.gz', 'lines.json.gz']) {
      await buildOk([v, '--batch-size', '1', '--out', '-', '--log-level', 'silent'], { cwd: GOOD }).then((r) => {
        // each batch line holds one example: `..."examples":[RECORD]}`
        const records = r.stdout
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => /"examples":\[(.*)\]\}$/.exec(l)?.[1] ?? '')
          .sort();
        expect(records, v).toEqual(plain);
      });
    }
  });

  test('symmetric_class without any negatives passes (nothing is sampled)', async () => {
    const r = await run(['build', 'class-no-neg.jsonl', '--batch-size', '2', '--out', '-', '--log-level', 'warn'], { cwd: GOOD });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l !== '')).toHaveLength(8);
  });

  test('empty neg passes where no negatives are sampled (--train-group-size 1)', async () => {
    const r = await run(['build', 'neg-empty.jsonl', '--train-group-size', '1', '--batch-size', '1', '--out', '-', '--log-level', 'warn'], { cwd: CORPUS });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l !== '')).toHaveLength(4);
    expect(r.stdout).toContain('"neg":[]');
  });
});
