/**
 * `--out -` into a reader that stops early (`| head -n 1`, `| head -c 100`): samebatch stops and
 * exits 0, with nothing alarming on standard error (no error line, no stack trace, no error log).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { alarming, BIN, errorLines, logLines, removeDir, tempDir } from '../bad-input/helpers.js';

let root = '';
let input = '';

beforeAll(() => {
  root = tempDir('pipe');
  // ~6 MB of output: far more than a pipe buffer holds.
  input = path.join(root, 'input.jsonl');
  const pad = 'y'.repeat(500);
  fs.writeFileSync(input, `${Array.from({ length: 12000 }, (_, i) => JSON.stringify({ query: `q${i} ${pad}`, pos: [`p${i}`], neg: [`n${i}`] })).join('\n')}\n`);
});

afterAll(() => {
  if (root !== '') removeDir(root);
});

function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

describe.each([
  ['head -n 1', 'head -n 1'],
  ['head -c 100', 'head -c 100'],
] as const)('--out - | %s', (name, reader) => {
  test('exits 0, nothing alarming on stderr', () => {
    const dir = path.join(root, name.replace(/\W+/g, '-'));
    fs.mkdirSync(dir);
    const err = path.join(dir, 'stderr');
    const status = path.join(dir, 'status');
    const first = path.join(dir, 'stdout');
    // POSIX sh has no pipefail: record samebatch's own status from inside the pipeline.
    const script = `{ ${shQuote(process.execPath)} ${shQuote(BIN)} build ${shQuote(input)} --batch-size 2 --epochs 3 --out - 2>${shQuote(err)}; echo $? >${shQuote(status)}; } | ${reader} >${shQuote(first)}`;
    const r = spawnSync('sh', ['-c', script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    const stderr = fs.readFileSync(err, 'utf8');
    expect(fs.readFileSync(status, 'utf8').trim(), stderr).toBe('0');
    const got = fs.readFileSync(first, 'utf8');
    if (reader === 'head -n 1') {
      expect(got.endsWith('\n')).toBe(true);
      const batch = JSON.parse(got) as { step: number; examples: unknown[] };
      expect(batch.step).toBe(0);
      expect(batch.examples).toHaveLength(2);
    } else {
      expect(got).toHaveLength(100);
    }
    expect(errorLines(stderr), stderr).toEqual([]);
    expect(alarming(stderr), stderr).toEqual([]);
    expect(logLines(stderr).filter((l) => l.level >= 50), stderr).toEqual([]);
    // It noticed the reader had gone, rather than writing everything.
    const write = logLines(stderr).find((l) => l.stage === 'write');
    expect(write?.msg, stderr).toMatch(/closed by its reader/);
    expect(Number(write?.steps)).toBeLessThan(18000);
  });
});
