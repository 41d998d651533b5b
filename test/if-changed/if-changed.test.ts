/**
 * `build --if-changed` and the manifest's fingerprint: a second run with the same inputs (by
 * content) and options writes nothing and says so; a changed input, a changed option or a
 * damaged output rebuilds; touching or moving the data does not.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyTree, FIXTURES, parseStderr, readManifest, REPO, removeTempDirs, run, snapshotTree, tempDir, type RunResult } from '../e2e/helpers.js';

afterAll(removeTempDirs);

const OPTIONS = ['--batch-size', '4', '--small-threshold', '12', '--drop-threshold', '20'];

/** Every file and directory below `dir` with its modification time. */
function mtimes(dir: string): Map<string, number> {
  const out = new Map<string, number>([['.', fs.statSync(dir).mtimeMs]]);
  for (const rel of fs.readdirSync(dir, { recursive: true }) as string[]) out.set(rel, fs.statSync(path.join(dir, rel)).mtimeMs);
  return out;
}

function messages(r: RunResult): string[] {
  return parseStderr(r.stderr).logs.map((l) => l.msg);
}

/** Canonical JSON written here independently: keys sorted at every level. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

describe('build --if-changed', () => {
  let root = '';
  let data = '';
  let out = '';
  const build = (args: string[] = [], inputs: string[] = [path.join(data, 'retrieval'), path.join(data, 'sts.jsonl')]): RunResult =>
    run(['build', ...inputs, ...OPTIONS, '--out', out, '--if-changed', ...args]);

  beforeAll(() => {
    root = tempDir('samebatch-if-changed-');
    data = path.join(root, 'data');
    copyTree(path.join(FIXTURES, 'retrieval'), path.join(data, 'retrieval'), 'forward');
    fs.copyFileSync(path.join(FIXTURES, 'sts', 'sts.jsonl'), path.join(data, 'sts.jsonl'));
    out = path.join(root, 'shards');
  });

  it('builds when there is no output yet, with a fingerprint in the manifest', () => {
    const r = build();
    expect(r.status, r.stderr).toBe(0);
    expect(messages(r)).toContain(`no earlier samebatch output in ${out}: building`);
    const m = readManifest(out) as unknown as { fingerprint: Record<string, string>; options: Record<string, unknown>; version: string };
    expect(Object.keys(m.fingerprint)).toEqual(['inputs', 'options', 'version']);
    expect(m.fingerprint.inputs).toMatch(/^[0-9a-f]{64}$/);
    expect(m.fingerprint.version).toBe((JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version);
    expect(m.fingerprint.options).toBe(createHash('sha256').update(canonical(m.options)).digest('hex'));
  });

  it('skips a second run: exit 0, says nothing changed, output untouched (bytes and mtimes)', () => {
    const before = snapshotTree(out);
    const times = mtimes(out);
    const r = build();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(messages(r)).toContain(`nothing changed: ${out} already holds the output of these inputs and options; nothing written`);
    // nothing after the check: no index, group, plan or write stage
    expect(parseStderr(r.stderr).logs.some((l) => l.stage === 'index' || l.stage === 'write')).toBe(false);
    expect(snapshotTree(out)).toEqual(before);
    expect(mtimes(out)).toEqual(times);
    expect(fs.readdirSync(root).sort()).toEqual(['data', 'shards']); // no temporary directory left
  });

  it('still skips after a data file is touched, or the data moved elsewhere, its contents the same', () => {
    const times = mtimes(out);
    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(path.join(data, 'sts.jsonl'), later, later);
    expect(messages(build())).toContain(`nothing changed: ${out} already holds the output of these inputs and options; nothing written`);
    const moved = path.join(tempDir('samebatch-if-changed-'), 'elsewhere');
    copyTree(data, moved, 'reverse');
    const r = build([], [path.join(moved, 'retrieval'), path.join(moved, 'sts.jsonl')]);
    expect(r.status, r.stderr).toBe(0);
    expect(messages(r)).toContain(`nothing changed: ${out} already holds the output of these inputs and options; nothing written`);
    expect(mtimes(out)).toEqual(times);
  });

  it('rebuilds when an input changed content', () => {
    const before = readManifest(out) as unknown as { fingerprint: { inputs: string; options: string } };
    const file = path.join(data, 'retrieval', 'msmarco.jsonl');
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    lines[0] = (lines[0] as string).replace('"query":"', '"query":"changed ');
    fs.writeFileSync(file, lines.join('\n'));
    const r = build();
    expect(r.status, r.stderr).toBe(0);
    expect(messages(r)).toContain(`inputs changed since ${out} was written: rebuilding`);
    expect(messages(r).some((msg) => msg.startsWith('wrote '))).toBe(true);
    const after = readManifest(out) as unknown as { fingerprint: { inputs: string; options: string } };
    expect(after.fingerprint.inputs).not.toBe(before.fingerprint.inputs);
    expect(after.fingerprint.options).toBe(before.fingerprint.options);
    expect(fs.readFileSync(path.join(out, 'batches-00000.jsonl'), 'utf8')).toContain('"query":"changed ');
    // and the run after that skips again
    expect(messages(build())).toContain(`nothing changed: ${out} already holds the output of these inputs and options; nothing written`);
  });

  it('rebuilds when an option changed', () => {
    const r = build(['--seed', '7']);
    expect(r.status, r.stderr).toBe(0);
    expect(messages(r)).toContain(`options changed since ${out} was written: rebuilding`);
    expect(readManifest(out).options).toMatchObject({ seed: 7 });
    // an option that does not shape the data (--jobs, --log-level) is no change
    expect(messages(build(['--seed', '7', '--jobs', '1']))).toContain(`nothing changed: ${out} already holds the output of these inputs and options; nothing written`);
  });

  it('rebuilds a damaged output (a shard missing)', () => {
    fs.rmSync(path.join(out, 'batches-00000.jsonl'));
    const r = build(['--seed', '7']);
    expect(r.status, r.stderr).toBe(0);
    expect(messages(r)).toContain(`${out} is damaged (missing or resized: batches-00000.jsonl): rebuilding`);
    expect(fs.existsSync(path.join(out, 'batches-00000.jsonl'))).toBe(true);
    expect(run(['verify', out]).status).toBe(0);
  });

  it('still refuses a directory samebatch did not write, and --out -', () => {
    const foreign = path.join(root, 'foreign');
    fs.mkdirSync(foreign);
    fs.writeFileSync(path.join(foreign, 'keep.txt'), 'mine\n');
    const r = run(['build', path.join(data, 'sts.jsonl'), '--out', foreign, '--if-changed']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('samebatch: error E_OUT_FOREIGN: ');
    expect(fs.readdirSync(foreign)).toEqual(['keep.txt']);
    const s = run(['build', path.join(data, 'sts.jsonl'), '--out', '-', '--if-changed']);
    expect(s.status).toBe(2);
    expect(s.stderr).toContain('samebatch: error E_USAGE: --if-changed needs --out DIR');
    expect(s.stdout).toBe('');
  });
});
