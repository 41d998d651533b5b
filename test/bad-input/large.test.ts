/**
 * Bad records in files large enough to be read in several pieces (and by several workers): the
 * line numbers must still be exact, the fault reported must be the first one in input order (in
 * the file, and across files), and --skip-invalid must count every skipped record and list the
 * first ones in line order. The files (~24 MB, \r\n line ends, a blank line every 97 lines) are
 * generated at test time; too big to check in.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorLines, removeDir, run, tempDir, tmpSiblings } from './helpers.js';

const LINES = 24_000;
let root = '';

/** Writes LINES lines: records, a blank line every 97th line, and `bad` at the given lines. */
function writeBig(file: string, bad: Map<number, string>): void {
  const pad = 'z'.repeat(1000);
  const parts: string[] = [];
  for (let line = 1; line <= LINES; line++) {
    const b = bad.get(line);
    if (b !== undefined) parts.push(b);
    else if (line % 97 === 0) parts.push('');
    else parts.push(JSON.stringify({ query: `q${line} ${pad}`, pos: [`p${line}`], neg: [`n${line}`] }));
  }
  fs.writeFileSync(file, `${parts.join('\r\n')}\r\n`);
}

const BAD_FIELD = (line: number): string => JSON.stringify({ query: `q${line}`, pos: [`p${line}`], neg: null });
const BAD_JSON = (line: number): string => `{"query":"q${line}","pos":["p${line}"],"neg":["n${line}"]`;

beforeAll(() => {
  root = tempDir('large');
  writeBig(path.join(root, 'one-bad.jsonl'), new Map([[20_001, BAD_FIELD(20_001)]]));
  writeBig(path.join(root, 'two-bad.jsonl'), new Map([[9_001, BAD_JSON(9_001)], [20_001, BAD_FIELD(20_001)]]));
  writeBig(path.join(root, 'many-bad.jsonl'), new Map([1_000, 5_000, 9_000, 12_000, 17_000, 21_000, 23_999].map((l, k) => [l, k % 2 === 0 ? BAD_FIELD(l) : BAD_JSON(l)])));
  fs.writeFileSync(path.join(root, 'one-bad.jsonl.gz'), zlib.gzipSync(fs.readFileSync(path.join(root, 'one-bad.jsonl')), { level: 1 }));
  fs.writeFileSync(path.join(root, 'small-bad.jsonl'), `${JSON.stringify({ query: 5, pos: ['p'], neg: ['n'] })}\n`);
});

afterAll(() => {
  if (root !== '') removeDir(root);
});

async function failure(inputs: string[], extra: string[] = []): Promise<string> {
  const out = path.join(root, `out-${inputs.join('-')}`);
  const r = await run(['build', ...inputs, '--out', out, '--log-level', 'silent', ...extra], { cwd: root });
  expect(r.status, r.stderr).toBe(1);
  expect(fs.existsSync(out)).toBe(false);
  expect(tmpSiblings(out)).toEqual([]);
  const lines = errorLines(r.stderr);
  expect(lines, r.stderr).toHaveLength(1);
  return lines[0] ?? '';
}

describe('bad records in large files', () => {
  test('a fault far into the file has its exact line', async () => {
    expect(await failure(['one-bad.jsonl'])).toMatch(/^samebatch: error E_FIELD: one-bad\.jsonl:20001: field "neg"/);
  });

  test('the same in a .jsonl.gz (decompressed line)', async () => {
    expect(await failure(['one-bad.jsonl.gz'])).toMatch(/^samebatch: error E_FIELD: one-bad\.jsonl\.gz:20001: field "neg"/);
  });

  test('of two faults in different parts of the file, the first is reported', async () => {
    const col = BAD_JSON(9_001).length + 1;
    expect(await failure(['two-bad.jsonl'])).toMatch(new RegExp(`^samebatch: error E_JSON: two-bad\\.jsonl:9001:${col}: `));
  });

  test('of faults in two files, the one in the first file given is reported', async () => {
    // The second file is tiny and fails at once; the first is large and fails late.
    expect(await failure(['one-bad.jsonl', 'small-bad.jsonl'])).toMatch(/^samebatch: error E_FIELD: one-bad\.jsonl:20001: /);
    expect(await failure(['small-bad.jsonl', 'one-bad.jsonl'])).toMatch(/^samebatch: error E_FIELD: small-bad\.jsonl:1: /);
  });

  test('a type that changes far into the file, and right at a piece boundary, is caught at its first line', async () => {
    // Where a reader cutting at 8 MiB would start its second piece: try the lines around it.
    const pad = 'z'.repeat(1000);
    const rec = (line: number, type: string): string => JSON.stringify({ query: `q${line} ${pad}`, pos: ['p'], neg: ['n'], type });
    const lineLen = Buffer.byteLength(rec(10_000, 'normal')) + 1;
    const boundary = Math.ceil((8 << 20) / lineLen);
    const ks = [boundary - 1, boundary, boundary + 1, 20_000];
    const files = ks.map((k) => {
      const f = `switch-${k}.jsonl`;
      const parts: string[] = [];
      for (let line = 1; line <= LINES; line++) parts.push(rec(line, line <= k ? 'normal' : 'only_1neg'));
      fs.writeFileSync(path.join(root, f), `${parts.join('\n')}\n`);
      return f;
    });
    const lines = await Promise.all(files.map((f) => failure([f])));
    lines.forEach((l, i) => {
      const k = ks[i] as number;
      expect(l).toMatch(new RegExp(`^samebatch: error E_TYPE_MIXED: switch-${k}\\.jsonl:${k + 1}: .*line 1 has "normal".*got "only_1neg"`));
    });
  });

  test('a batch_size that changes far into the file is caught at its line', async () => {
    const parts: string[] = [];
    for (let line = 1; line <= LINES; line++) parts.push(JSON.stringify({ query: `q${line} ${'z'.repeat(1000)}`, pos: ['p'], neg: ['n'], batch_size: line === 20_001 ? 4 : 2 }));
    fs.writeFileSync(path.join(root, 'bs-far.jsonl'), `${parts.join('\n')}\n`);
    expect(await failure(['bs-far.jsonl'])).toMatch(/^samebatch: error E_BATCH_SIZE: bs-far\.jsonl:20001: .*line 1 has 2.*got 4/);
  });

  test('--skip-invalid counts every skipped record and lists the first ones in line order', async () => {
    const out = path.join(root, 'out-skip');
    const r = await run(['build', 'many-bad.jsonl', '--skip-invalid', '--out', out, '--log-level', 'silent'], { cwd: root });
    expect(r.status, r.stderr).toBe(0);
    const m = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as {
      inputs: { records: number; invalid: { count: number; codes: Record<string, number>; first: string[] } | null }[];
    };
    const i = m.inputs[0];
    const blanks = Math.floor(LINES / 97) - [1_000, 5_000, 9_000, 12_000, 17_000, 21_000, 23_999].filter((l) => l % 97 === 0).length;
    expect(i?.records).toBe(LINES - blanks - 7);
    expect(i?.invalid?.count).toBe(7);
    expect(i?.invalid?.codes).toEqual({ E_FIELD: 4, E_JSON: 3 });
    const lines = (i?.invalid?.first ?? []).map((f) => Number(/^many-bad\.jsonl:(\d+)/.exec(f)?.[1]));
    expect(lines).toEqual([1_000, 5_000, 9_000, 12_000, 17_000]);
  });
});
