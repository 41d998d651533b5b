/**
 * `samebatch verify`: good outputs pass (exit 0, one summary line); every corruption the issue
 * names — a truncated shard, swapped lines, a deleted line, an edited example, a missing shard,
 * an edited manifest — fails with exit 1 and E_VERIFY naming the first offending shard:line (or
 * file) and the rule. Expected locations are worked out here from the output's layout
 * (--shard-max-batches 50: 166 steps in shards of 50, 50, 50 and 16).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOk, copyTree, parseStderr, README_INPUTS, readManifest, removeTempDirs, run, tempDir, WARN, type BatchLine } from '../e2e/helpers.js';

afterAll(removeTempDirs);

const OPTIONS = ['--batch-size', '4', '--small-threshold', '12', '--drop-threshold', '20', '--epochs', '2', '--log-level', 'warn'];
let good = '';
let provenance = '';

beforeAll(() => {
  const root = tempDir('samebatch-verify-');
  good = path.join(root, 'good');
  buildOk([...README_INPUTS, ...OPTIONS, '--shard-max-batches', '50', '--out', good]);
  provenance = path.join(root, 'provenance');
  buildOk([...README_INPUTS, ...OPTIONS, '--world-size', '2', '--provenance', '--out', provenance]);
});

/** A fresh copy of an output to damage. */
function copyOf(dir: string): string {
  const to = path.join(tempDir('samebatch-verify-'), 'out');
  copyTree(dir, to, 'forward');
  return to;
}

function shardLines(dir: string, shard: string): string[] {
  const text = fs.readFileSync(path.join(dir, shard), 'utf8');
  return text.slice(0, -1).split('\n');
}

function writeLines(dir: string, shard: string, lines: readonly string[]): void {
  fs.writeFileSync(path.join(dir, shard), `${lines.join('\n')}\n`);
}

function editManifest(dir: string, edit: (m: any) => void): void {
  const p = path.join(dir, 'manifest.json');
  const m = JSON.parse(fs.readFileSync(p, 'utf8')) as unknown;
  edit(m);
  fs.writeFileSync(p, `${JSON.stringify(m, null, 2)}\n`);
}

/** Runs verify expecting failure; returns the message after `samebatch: error E_VERIFY: `. */
function failure(dir: string): string {
  const r = run(['verify', dir]);
  expect(r.status, r.stderr).toBe(1);
  expect(r.stdout).toBe('');
  const line = r.stderr.split('\n').find((l) => l.startsWith('samebatch: error '));
  expect(line).toMatch(/^samebatch: error E_VERIFY: /);
  return (line ?? '').replace('samebatch: error E_VERIFY: ', '');
}

describe('verify: good outputs', () => {
  it('passes the README example in four shards: exit 0, one summary line on stdout', () => {
    const r = run(['verify', good]);
    expect(r.status, r.stderr).toBe(0);
    // 217 records − fever 6 − tails 4 = 207 examples per epoch, 414 in two epochs
    expect(r.stdout).toBe(`ok ${good}: 4 shards, 166 steps (2 epochs), 414 examples: bytes, sha256, counts and batch invariants hold\n`);
    expect(parseStderr(r.stderr).other).toEqual([]);
  });

  it('passes an output with provenance at world size 2', () => {
    const r = run(['verify', provenance]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ok .*: 1 shard, \d+ steps \(2 epochs\), \d+ examples: bytes, sha256, counts and batch invariants hold\n$/);
  });

  it('passes per-rank output, reading the ranks in lockstep', () => {
    const dir = path.join(tempDir('samebatch-verify-'), 'out');
    buildOk([...README_INPUTS, ...OPTIONS, '--world-size', '2', '--per-rank', '--shard-max-batches', '30', '--out', dir]);
    const r = run(['verify', dir]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ok .*: \d+ shards, 2 ranks, \d+ steps \(2 epochs\), \d+ examples: bytes, sha256, counts and batch invariants hold\n$/);
    // a line of rank 1 swapped with the next: that rank's shard and line
    const m = readManifest(dir) as unknown as { shards: { file: string; rank?: number }[] };
    const file = m.shards.find((s) => s.rank === 1)?.file as string;
    const lines = shardLines(dir, file);
    [lines[1], lines[2]] = [lines[2] as string, lines[1] as string];
    writeLines(dir, file, lines);
    expect(failure(dir)).toMatch(new RegExp(`^${escape(path.join(dir, file))}:2: step is 2, expected 1 `));
  });

  it('passes the flag format, saying which checks it skipped', () => {
    const dir = path.join(tempDir('samebatch-verify-'), 'out');
    buildOk([...README_INPUTS, ...OPTIONS, '--format', 'flag', '--out', dir]);
    const r = run(['verify', dir]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/: bytes, sha256, counts and batch headers hold \(example-level checks .* skipped: not known for format "flag"\)\n$/);
  });

  it('ignores a file the manifest does not list, with a warning', () => {
    const dir = copyOf(good);
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'hello\n');
    const r = run(['verify', dir]);
    expect(r.status, r.stderr).toBe(0);
    const warnings = parseStderr(r.stderr).logs.filter((l) => l.level === WARN).map((l) => l.msg);
    expect(warnings).toEqual([`${path.join(dir, 'notes.txt')}: not listed in the manifest (ignored)`]);
  });
});

describe('verify: each corruption fails with exit 1, naming where and the rule', () => {
  it('a shard truncated inside a line: its last, incomplete line', () => {
    const dir = copyOf(good);
    const p = path.join(dir, 'batches-00001.jsonl');
    fs.truncateSync(p, fs.statSync(p).size - 10);
    expect(failure(dir)).toBe(`${path.join(dir, 'batches-00001.jsonl')}:50: the last line has no newline: the shard is truncated`);
  });

  it('a shard truncated at a line end: fewer lines than its receipt', () => {
    const dir = copyOf(good);
    writeLines(dir, 'batches-00001.jsonl', shardLines(dir, 'batches-00001.jsonl').slice(0, 49));
    expect(failure(dir)).toBe(`${path.join(dir, 'batches-00001.jsonl')}: holds 49 lines, but the manifest lists 50 batches (truncated, or lines deleted)`);
  });

  it('two lines swapped: the first line out of place', () => {
    const dir = copyOf(good);
    const lines = shardLines(dir, 'batches-00000.jsonl');
    [lines[3], lines[4]] = [lines[4] as string, lines[3] as string];
    writeLines(dir, 'batches-00000.jsonl', lines);
    expect(failure(dir)).toMatch(new RegExp(`^${escape(path.join(dir, 'batches-00000.jsonl'))}:4: step is 4, expected 3 `));
  });

  it('a line deleted in the middle of a later shard: the line after the gap', () => {
    const dir = copyOf(good);
    const lines = shardLines(dir, 'batches-00002.jsonl');
    lines.splice(9, 1); // line 10 of the third shard is step 100 + 9 = 109
    writeLines(dir, 'batches-00002.jsonl', lines);
    expect(failure(dir)).toMatch(new RegExp(`^${escape(path.join(dir, 'batches-00002.jsonl'))}:10: step is 110, expected 109 `));
  });

  it('one character of an example changed: the shard whose bytes no longer match', () => {
    const dir = copyOf(good);
    const lines = shardLines(dir, 'batches-00000.jsonl');
    const line = lines[6] as string;
    const at = line.indexOf('"examples":[{"query":"') + '"examples":[{"query":"'.length;
    lines[6] = `${line.slice(0, at)}${line[at] === 'Z' ? 'Y' : 'Z'}${line.slice(at + 1)}`;
    writeLines(dir, 'batches-00000.jsonl', lines);
    expect(failure(dir)).toMatch(new RegExp(`^${escape(path.join(dir, 'batches-00000.jsonl'))}: sha256 is [0-9a-f]{64}, but the manifest lists [0-9a-f]{64}`));
  });

  it("an example's type edited: the line, by the one-type-per-batch rule", () => {
    const dir = copyOf(good);
    const lines = shardLines(dir, 'batches-00000.jsonl');
    const k = lines.findIndex((l) => (JSON.parse(l) as BatchLine).type === 'normal');
    lines[k] = (lines[k] as string).replace('"type":"normal"}', '"type":"only_1neg"}');
    writeLines(dir, 'batches-00000.jsonl', lines);
    expect(failure(dir)).toMatch(new RegExp(`^${escape(path.join(dir, 'batches-00000.jsonl'))}:${k + 1}: example \\d+ has type "only_1neg", but the line is of type "normal"`));
  });

  it('an example copied over another of the same epoch: the second occurrence', () => {
    const dir = copyOf(good);
    const lines = shardLines(dir, 'batches-00000.jsonl');
    const parsed = lines.map((l) => JSON.parse(l) as BatchLine);
    const a = parsed.findIndex((l) => l.group === 'retrieval/msmarco.jsonl');
    const b = parsed.findIndex((l, i) => i > a && l.group === 'retrieval/msmarco.jsonl');
    const lineB = parsed[b] as BatchLine;
    lineB.examples[0] = (parsed[a] as BatchLine).examples[0]!;
    lines[b] = JSON.stringify(lineB);
    writeLines(dir, 'batches-00000.jsonl', lines);
    expect(failure(dir)).toMatch(new RegExp(`^${escape(path.join(dir, 'batches-00000.jsonl'))}:${b + 1}: example 1 appears twice in epoch 0: it is in step ${a} too`));
  });

  it('a shard deleted: the missing shard, before anything is read', () => {
    const dir = copyOf(good);
    fs.rmSync(path.join(dir, 'batches-00003.jsonl'));
    expect(failure(dir)).toBe(`${path.join(dir, 'batches-00003.jsonl')}: missing: the manifest lists this shard`);
  });

  it("a shard's batch count edited in the manifest: the manifest", () => {
    const dir = copyOf(good);
    editManifest(dir, (m) => {
      m.shards[1].batches = 49;
    });
    expect(failure(dir)).toBe(`${path.join(dir, 'manifest.json')}: shard batches-00002.jsonl: first_step is 100, but the shards before it hold 99 steps`);
  });

  it("a shard's example count edited in the manifest: that shard's tally", () => {
    const dir = copyOf(good);
    let listed = 0;
    editManifest(dir, (m) => {
      listed = m.shards[3].examples - 2;
      m.shards[3].examples = listed;
    });
    expect(failure(dir)).toBe(`${path.join(dir, 'batches-00003.jsonl')}: holds ${listed + 2} examples, but the manifest lists ${listed}`);
  });

  it('the total of steps edited in the manifest: its arithmetic', () => {
    const dir = copyOf(good);
    editManifest(dir, (m) => {
      m.shards[3].batches = 15;
      m.totals.steps = 165;
    });
    // 165 steps is no multiple of the groups' 83 steps per epoch
    expect(failure(dir)).toBe(`${path.join(dir, 'manifest.json')}: totals.steps is 165, but steps_per_epoch × epochs is 83 × 2 = 166`);
  });

  it("a shard's sha256 edited in the manifest: that shard", () => {
    const dir = copyOf(good);
    editManifest(dir, (m) => {
      m.shards[2].sha256 = '0'.repeat(64);
    });
    expect(failure(dir)).toMatch(new RegExp(`^${escape(path.join(dir, 'batches-00002.jsonl'))}: sha256 is [0-9a-f]{64}, but the manifest lists 0{64}`));
  });

  it("a group's batch size edited in the manifest: its arithmetic", () => {
    const dir = copyOf(good);
    editManifest(dir, (m) => {
      m.groups[0].batch_size = 5;
    });
    expect(failure(dir)).toContain('groups[0] (retrieval/msmarco.jsonl): global_batch_size 4 is not batch_size × world_size = 5 × 1');
  });

  it('a provenance entry past the end of its file: that line', () => {
    const dir = copyOf(provenance);
    const m = readManifest(dir);
    const file = m.shards[0]!.file;
    const lines = shardLines(dir, file);
    const first = JSON.parse(lines[0] as string) as BatchLine;
    const was = first.provenance![0]!;
    const moved = was.replace(/:\d+$/, ':999999');
    lines[0] = (lines[0] as string).replace(JSON.stringify(was), JSON.stringify(moved));
    writeLines(dir, file, lines);
    expect(failure(dir)).toMatch(new RegExp(`^${escape(path.join(dir, file))}:1: provenance ${escape(moved)} of example 1: line 999999 is past the end of `));
  });

  it('no manifest: exit 1; no directory: exit 2', () => {
    const dir = copyOf(good);
    fs.rmSync(path.join(dir, 'manifest.json'));
    expect(failure(dir)).toBe(`${path.join(dir, 'manifest.json')}: missing: not a samebatch output, or its manifest was deleted`);
    const r = run(['verify', path.join(dir, 'nope')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('samebatch: error E_PATH_MISSING: ');
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
