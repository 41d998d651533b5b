/**
 * Interruption: a build of ~200 MB of JSON Lines (written 4 epochs over, so the write stage lasts
 * a while) replacing an earlier output with --force is sent SIGINT / SIGTERM once its shards are
 * being written. It must exit 130 / 143, remove its temporary directory beside --out and its
 * scratch directory (samebatch-work-*, in a private TMPDIR so that nothing else interferes), and
 * leave the earlier output byte for byte as it was.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  alarming,
  buildEarlierOutput,
  errorLines,
  logLines,
  removeDir,
  start,
  tempDir,
  tmpSiblings,
  treeDigest,
  waitFor,
  workDirs,
} from '../bad-input/helpers.js';

const TARGET_BYTES = 200e6;

let root = '';
let big = '';
let small = '';
let bigGz = '';

beforeAll(() => {
  root = tempDir('interrupt');
  big = path.join(root, 'big.jsonl');
  // 1000 distinct ~12 KB records, repeated: fast to write, slow enough to batch.
  const pad = 'lorem ipsum dolor sit amet '.repeat(150);
  const lines: string[] = [];
  for (let i = 0; i < 1000; i++) lines.push(JSON.stringify({ query: `q${i} ${pad}`, pos: [`p${i} ${pad}`], neg: [`n${i} ${pad}`, `m${i}`] }));
  const chunk = Buffer.from(`${lines.join('\n')}\n`);
  const fd = fs.openSync(big, 'w');
  try {
    for (let n = 0; n < TARGET_BYTES; n += chunk.length) fs.writeSync(fd, chunk);
  } finally {
    fs.closeSync(fd);
  }
  // The same ~200 MB as a .jsonl.gz of many gzip members (valid gzip: members concatenate).
  bigGz = path.join(root, 'big.jsonl.gz');
  const member = zlib.gzipSync(chunk, { level: 1 });
  const gfd = fs.openSync(bigGz, 'w');
  try {
    for (let n = 0; n < TARGET_BYTES; n += chunk.length) fs.writeSync(gfd, member);
  } finally {
    fs.closeSync(gfd);
  }
  // A .json array: samebatch rewrites it into its scratch directory, so one exists during the run.
  small = path.join(root, 'small.json');
  fs.writeFileSync(small, JSON.stringify(Array.from({ length: 16 }, (_, i) => ({ query: `s${i}`, pos: ['p'], neg: ['n'] }))));
});

afterAll(() => {
  if (root !== '') removeDir(root);
});

describe.each([
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const)('%s during the write stage', (signal, expected) => {
  test(`exits ${expected}, removes its temporary files, leaves the earlier output untouched`, async () => {
    const dir = path.join(root, signal);
    const tmp = path.join(dir, 'tmp');
    const out = path.join(dir, 'out');
    fs.mkdirSync(tmp, { recursive: true });
    await buildEarlierOutput(out);
    const before = treeDigest(out);

    const { child, done } = start(['build', big, small, '--out', out, '--force', '--epochs', '4', '--log-level', 'info'], { env: { TMPDIR: tmp } });
    let exited = false;
    void done.then(() => {
      exited = true;
    });
    // Writing has started once a shard exists in the temporary directory beside --out.
    const writing = await waitFor(
      () => exited || tmpSiblings(out).some((t) => fs.existsSync(path.join(dir, t, 'batches-00000.jsonl'))),
      30_000,
    );
    const scratchDuringRun = workDirs(tmp);
    expect(exited, 'the build ended before it could be interrupted; make the input larger').toBe(false);
    expect(writing).toBe(true);
    expect(scratchDuringRun, 'a scratch directory exists during the run (so the check after it means something)').toHaveLength(1);
    child.kill(signal);
    const r = await done;

    const context = `--- stderr ---\n${r.stderr.slice(-4000)}`;
    expect(r.signal, context).toBeNull();
    expect(r.status, context).toBe(expected);
    expect(tmpSiblings(out), 'no .out.samebatch-tmp-* left beside --out').toEqual([]);
    expect(fs.readdirSync(dir).sort()).toEqual(['out', 'tmp']);
    expect(workDirs(tmp), 'no samebatch-work-* left in TMPDIR').toEqual([]);
    expect(treeDigest(out), 'earlier output byte for byte untouched').toEqual(before);
    expect(errorLines(r.stderr), context).toEqual([]);
    expect(alarming(r.stderr), context).toEqual([]);
    const warned = logLines(r.stderr).filter((l) => l.level === 40 && l.msg.includes(signal));
    expect(warned, context).toHaveLength(1);
    expect(logLines(r.stderr).filter((l) => l.stage === 'write' && l.level === 30), 'no "wrote" line').toEqual([]);
  });
});

describe('SIGINT while a big .jsonl.gz is decompressed into the scratch directory', () => {
  test('exits 130, removes the scratch directory, leaves the earlier output untouched', async () => {
    const dir = path.join(root, 'gz');
    const tmp = path.join(dir, 'tmp');
    const out = path.join(dir, 'out');
    fs.mkdirSync(tmp, { recursive: true });
    await buildEarlierOutput(out);
    const before = treeDigest(out);

    const { child, done } = start(['build', bigGz, '--out', out, '--force', '--log-level', 'info'], { env: { TMPDIR: tmp } });
    let exited = false;
    void done.then(() => {
      exited = true;
    });
    // Decompression has started once the scratch copy holds some bytes.
    const started = await waitFor(() => {
      if (exited) return true;
      const w = workDirs(tmp)[0];
      if (w === undefined) return false;
      try {
        return fs.readdirSync(path.join(tmp, w)).some((f) => fs.statSync(path.join(tmp, w, f)).size > 0);
      } catch {
        return false;
      }
    }, 30_000);
    expect(exited, 'the build ended before it could be interrupted').toBe(false);
    expect(started).toBe(true);
    child.kill('SIGINT');
    const r = await done;

    const context = `--- stderr ---\n${r.stderr.slice(-4000)}`;
    expect(r.signal, context).toBeNull();
    expect(r.status, context).toBe(130);
    expect(workDirs(tmp), 'no samebatch-work-* left in TMPDIR').toEqual([]);
    expect(tmpSiblings(out)).toEqual([]);
    expect(fs.readdirSync(dir).sort()).toEqual(['out', 'tmp']);
    expect(treeDigest(out), 'earlier output byte for byte untouched').toEqual(before);
    expect(errorLines(r.stderr), context).toEqual([]);
    expect(alarming(r.stderr), context).toEqual([]);
  });
});
