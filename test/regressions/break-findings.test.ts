/**
 * Regressions for faults found by adversarial testing: each test failed before its fix.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { shuffleText } from '../../src/core/flag-format.js';
import { streamFor } from '../../src/core/rng.js';
import { OutDir } from '../../src/io/output.js';
import { resolveOptions } from '../../src/options.js';

const BIN = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../bin/samebatch.js');
const temps: string[] = [];
afterAll(() => {
  for (const d of temps) fs.rmSync(d, { recursive: true, force: true });
});

function temp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'samebatch-break-'));
  temps.push(d);
  return d;
}

function jsonl(file: string, records: unknown[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

function run(cwd: string, ...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const rec = (q: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ query: q, pos: ['p'], neg: ['n'], ...extra });

describe('faults found by adversarial testing', () => {
  it('a byte-order mark inside a file (two BOM files joined with cat) is malformed JSON at its line, not copied into the output', () => {
    const dir = temp();
    const one = Buffer.from(`\uFEFF${JSON.stringify(rec('a'))}\n${JSON.stringify(rec('b'))}\n`);
    fs.writeFileSync(path.join(dir, 'all.jsonl'), Buffer.concat([one, one]));
    const r = run(dir, 'build', 'all.jsonl', '--batch-size', '4', '--out', 'out');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^samebatch: error E_JSON: all\.jsonl:3:1: /m);
    expect(fs.existsSync(path.join(dir, 'out'))).toBe(false);
  });

  it('a record without negatives in a group where another record asks for them is refused before writing, by plan too', () => {
    const dir = temp();
    jsonl(path.join(dir, 'data/with_negs.jsonl'), Array.from({ length: 6 }, (_, i) => rec(`a${i}`, { neg: ['n1', 'n2', 'n3'], train_group_size: 4 })));
    jsonl(path.join(dir, 'data/no_negs.jsonl'), Array.from({ length: 6 }, (_, i) => rec(`b${i}`, { neg: [] })));
    const opts = ['--small-threshold', '100', '--batch-size', '4', '--train-group-size', '1', '--format', 'flag'];
    for (const args of [['plan', 'data', ...opts], ['build', 'data', ...opts, '--out', '-']]) {
      const r = run(dir, ...args);
      expect(r.status, args[0]).toBe(1);
      expect(r.stderr).toMatch(/^samebatch: error E_NO_NEGATIVES: data\/no_negs\.jsonl:1: field "neg" must hold at least one negative: a batch of group data\/<small> can start with a record asking for 4 passages per query/m);
      expect(r.stdout).toBe('');
    }
  });

  it('many data files with many --jobs stay under a 1024 file limit', () => {
    const dir = temp();
    for (let i = 0; i < 300; i++) jsonl(path.join(dir, `data/f${String(i).padStart(4, '0')}.jsonl`), Array.from({ length: 40 }, (_, j) => rec(`q${i}-${j}`)));
    const r = spawnSync('sh', ['-c', `ulimit -n 1024 && "${process.execPath}" "${BIN}" build data --batch-size 4 --small-threshold 50 --out out --jobs 16 --log-level error`], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(fs.readdirSync(dir).filter((n) => n.includes('samebatch-tmp'))).toEqual([]);
  }, 60_000);

  it('a directory that appears at --out while the run goes on is not replaced at the end', () => {
    const dir = temp();
    const target = path.join(dir, 'shards');
    const out = new OutDir(target, true);
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'notes.txt'), 'precious');
    expect(() => out.commit()).toThrow(/E_OUT_FOREIGN|not replace/);
    out.abort();
    expect(fs.readFileSync(path.join(target, 'notes.txt'), 'utf8')).toBe('precious');
    expect(fs.readdirSync(dir)).toEqual(['shards']);
  });

  it('--shuffle-ratio cuts text in code points: no lone surrogates, and no shuffle at 100 code points or fewer', () => {
    const emoji = '\u{1F600}'.repeat(60);
    expect(shuffleText(emoji, 1, streamFor(1))).toBe(emoji); // 60 code points, 120 UTF-16 units
    const long = '\u{1F600}ab'.repeat(40);
    const out = shuffleText(long, 1, streamFor(2));
    expect(out).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    expect([...out.replaceAll(' ', '')].sort()).toEqual([...long].sort());
  });

  it('a directory literally named like a "~2" id gets an id of its own; the output verifies', () => {
    const dir = temp();
    for (const d of ['a/data', 'b/data', 'data~2']) jsonl(path.join(dir, d, 'x.jsonl'), Array.from({ length: 8 }, (_, i) => rec(`${d}${i}`)));
    expect(run(dir, 'build', 'a/data', 'b/data', 'data~2', '--batch-size', '4', '--out', 'out').status).toBe(0);
    const groups = (JSON.parse(fs.readFileSync(path.join(dir, 'out/manifest.json'), 'utf8')) as { groups: { id: string }[] }).groups.map((g) => g.id);
    expect(new Set(groups).size).toBe(3);
    expect(run(dir, 'verify', 'out').status).toBe(0);
  });

  it('a hard link to an input is the same data file given twice', () => {
    const dir = temp();
    jsonl(path.join(dir, 'a.jsonl'), Array.from({ length: 8 }, (_, i) => rec(`q${i}`)));
    fs.linkSync(path.join(dir, 'a.jsonl'), path.join(dir, 'b.jsonl'));
    const r = run(dir, 'build', 'a.jsonl', 'b.jsonl', '--out', 'out');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/E_INPUT_TWICE: b\.jsonl: this data file is already an input \(as a\.jsonl\)/);
  });

  it('flag-only options are refused with --format raw, and a hexadecimal ratio is not a ratio', () => {
    expect(() => resolveOptions({ out: 'o', shuffleRatio: '0.5' })).toThrow(/--shuffle-ratio: only used with --format flag/);
    expect(() => resolveOptions({ out: 'o', format: 'flag', shuffleRatio: '0x1' })).toThrow(/must be a decimal number from 0 to 1/);
    expect(resolveOptions({ out: 'o', format: 'flag', shuffleRatio: '.25' }).shuffleRatio).toBe(0.25);
  });

  it('usage errors from the argument parser read like every other error', () => {
    const r = run(temp(), 'build', '--bogus', 'x');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^samebatch: error E_USAGE: unknown option '--bogus'/m);
  });

  it('a newline in a data file name survives provenance and verify', () => {
    const dir = temp();
    jsonl(path.join(dir, 'new\nline.jsonl'), Array.from({ length: 8 }, (_, i) => rec(`q${i}`)));
    expect(run(dir, 'build', 'new\nline.jsonl', '--batch-size', '4', '--provenance', '--out', 'out').status).toBe(0);
    const v = run(dir, 'verify', 'out');
    expect(v.stderr.split('\n').filter((l) => l.startsWith('samebatch: error'))).toEqual([]);
    expect(v.status).toBe(0);
  });

  it('--out given as a symbolic link to an earlier output: the link stays, its target is replaced', () => {
    const dir = temp();
    jsonl(path.join(dir, 'a.jsonl'), Array.from({ length: 8 }, (_, i) => rec(`q${i}`)));
    expect(run(dir, 'build', 'a.jsonl', '--batch-size', '4', '--out', 'real').status).toBe(0);
    fs.symlinkSync('real', path.join(dir, 'link'));
    expect(run(dir, 'build', 'a.jsonl', '--batch-size', '2', '--out', 'link', '--force').status).toBe(0);
    expect(fs.lstatSync(path.join(dir, 'link')).isSymbolicLink()).toBe(true);
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'real/manifest.json'), 'utf8')) as { options: { batch_size: number } };
    expect(m.options.batch_size).toBe(2);
  });
});
