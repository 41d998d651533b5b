/**
 * The bad-input corpus: one test per case of cases.ts. Each case runs twice against the real
 * binary, from a temporary copy of corpus/:
 *   1. into a new --out path: the exit status, `samebatch: error CODE: LOCATION: ...`, the message,
 *      and afterwards no --out, no `.NAME.samebatch-tmp-*` beside it, no scratch directory left;
 *   2. into an --out that holds an earlier samebatch output, with --force: the same error, and the
 *      earlier output byte for byte as it was.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ERROR_CODES } from '../../src/errors.js';
import { BAD_CASES, type BadCase } from './cases.js';
import {
  buildEarlierOutput,
  errorLines,
  escapeRegExp,
  logLines,
  REPO,
  removeDir,
  run,
  tempDir,
  tmpSiblings,
  treeDigest,
  workDirs,
  type RunResult,
} from './helpers.js';

const CORPUS = path.join(REPO, 'test', 'bad-input', 'corpus');

let root = '';
let work = '';
let earlier = '';

beforeAll(async () => {
  root = tempDir('bad-input');
  work = path.join(root, 'corpus');
  fs.cpSync(CORPUS, work, { recursive: true });
  for (const c of BAD_CASES) {
    for (const [link, target] of c.symlinks ?? []) fs.symlinkSync(target, path.join(work, link));
    for (const fifo of c.fifos ?? []) execFileSync('mkfifo', [path.join(work, fifo)]);
  }
  earlier = path.join(root, 'earlier');
  await buildEarlierOutput(earlier);
});

afterAll(() => {
  if (root !== '') removeDir(root);
});

function slug(id: string): string {
  return id.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
}

/** Checks one failed run against the case; returns nothing, throws on a mismatch. */
function expectFailure(c: BadCase, r: RunResult, what: string): void {
  const context = `${what}\n--- stderr ---\n${r.stderr}`;
  expect(r.signal, context).toBeNull();
  expect(r.status, context).toBe(c.status);
  expect(ERROR_CODES[c.code], 'the table and src/errors.ts agree on the exit class').toBe(c.status);
  const lines = errorLines(r.stderr);
  expect(lines, context).toHaveLength(1);
  const line = lines[0] ?? '';
  expect(line, context).toMatch(new RegExp(`^samebatch: error ${c.code}: `));
  if (c.location !== null) {
    expect(line, context).toMatch(new RegExp(`^samebatch: error ${c.code}: ${escapeRegExp(c.location)}: `));
  }
  for (const m of c.message ?? []) {
    if (typeof m === 'string') expect(line, context).toContain(m);
    else expect(line, context).toMatch(m);
  }
  const after = r.stderr.slice(r.stderr.indexOf(line) + line.length);
  for (const d of c.detail ?? []) {
    if (typeof d === 'string') expect(after, context).toContain(d);
    else expect(after, context).toMatch(d);
  }
  // The error is also a pino log line carrying the code.
  const logged = logLines(r.stderr).filter((l) => l.level >= 50);
  expect(logged.map((l) => l.code), context).toContain(c.code);
  expect(r.stdout, 'nothing on standard output').toBe('');
  expect(r.stderr, 'no internal error or stack trace').not.toMatch(/internal error|\n\s+at /);
}

describe('bad-input corpus', () => {
  test('every corpus file is used by a case, and every case input exists', () => {
    const used = new Set<string>();
    for (const c of BAD_CASES) for (const i of c.inputs) used.add(i.replace(/^\.\//, '').replace(/\/$/, '').split('/')[0] ?? '');
    const files = fs.readdirSync(CORPUS);
    // few/good/empty are shared by several cases; every file must belong to some case.
    expect(files.filter((f) => !used.has(f))).toEqual([]);
    const missing = BAD_CASES.flatMap((c) => c.inputs)
      .filter((i) => !['does-not-exist.jsonl', 'no-such-dir/'].includes(i))
      .filter((i) => !BAD_CASES.some((c) => c.fifos?.includes(i) || c.symlinks?.some(([l]) => l === i)))
      .filter((i) => !fs.existsSync(path.join(CORPUS, i)));
    expect(missing).toEqual([]);
    expect(new Set(BAD_CASES.map((c) => c.id)).size).toBe(BAD_CASES.length);
    expect(BAD_CASES.length).toBeGreaterThanOrEqual(35);
  });

  test('corpus bytes survived version control (CRLF, BOM, no final newline)', () => {
    const crlf = fs.readFileSync(path.join(CORPUS, 'crlf-bad-line.jsonl'));
    expect(crlf.includes(Buffer.from('\r\n'))).toBe(true);
    expect([...fs.readFileSync(path.join(CORPUS, 'bom-bad-json.jsonl')).subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(fs.readFileSync(path.join(CORPUS, 'truncated-last-line.jsonl')).at(-1)).not.toBe(0x0a);
    expect(fs.readFileSync(path.join(CORPUS, 'invalid-utf8.jsonl')).includes(0xff)).toBe(true);
  });

  // The location gives line:column; a 0-based "position" of V8's (counted within the record, or
  // within the array element) contradicts it, and so does a clipped echo of the input.
  test('E_JSON messages carry no stray V8 position or input echo', async () => {
    const files = ['trailing-garbage.jsonl', 'array-missing-comma.json', 'single-quotes.jsonl', 'kd-nan-token.jsonl'];
    const results = await Promise.all(files.map((f) => run(['build', f, '--out', '-', '--log-level', 'silent'], { cwd: work })));
    const lines = results.map((r) => errorLines(r.stderr)[0] ?? '');
    lines.forEach((l) => expect(l).toMatch(/^samebatch: error E_JSON: /));
    results.forEach((r) => expect(r.stdout, 'input errors come before the first line of --out -').toBe(''));
    const stray = lines.filter((l) => /at position \d+|is not valid JSON/.test(l));
    expect(stray).toEqual([]);
  });

  test.concurrent.each(BAD_CASES.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
    const dir = path.join(root, 'runs', slug(c.id));
    const tmpNew = path.join(dir, 'tmp-new');
    const tmpOld = path.join(dir, 'tmp-old');
    fs.mkdirSync(tmpNew, { recursive: true });
    fs.mkdirSync(tmpOld, { recursive: true });
    const outNew = c.out === undefined ? path.join(dir, 'out-new') : path.join(work, c.out);
    const outOld = c.out === undefined ? path.join(dir, 'out-old') : path.join(work, c.out);
    const args = (out: string, extra: string[]): string[] => [
      'build',
      ...c.inputs,
      ...(c.options ?? []),
      '--out',
      c.out ?? out,
      ...extra,
    ];

    // 1. a new --out
    const r1 = await run(args(outNew, []), { cwd: work, env: { TMPDIR: tmpNew } });
    expectFailure(c, r1, `new --out: ${args(outNew, []).join(' ')}`);
    expect(fs.existsSync(outNew), `--out ${outNew} must not exist after a failed run`).toBe(false);
    expect(tmpSiblings(outNew)).toEqual([]);
    expect(workDirs(tmpNew), 'scratch directory removed').toEqual([]);

    // 2. an earlier output in --out, replaced only on success (--force)
    fs.cpSync(earlier, outOld, { recursive: true });
    const before = treeDigest(outOld);
    const r2 = await run(args(outOld, ['--force']), { cwd: work, env: { TMPDIR: tmpOld } });
    expectFailure(c, r2, `earlier output + --force: ${args(outOld, ['--force']).join(' ')}`);
    expect(treeDigest(outOld), 'earlier output byte for byte untouched').toEqual(before);
    expect(tmpSiblings(outOld)).toEqual([]);
    expect(workDirs(tmpOld), 'scratch directory removed').toEqual([]);
    if (c.out !== undefined) removeDir(outOld);
  });
});
