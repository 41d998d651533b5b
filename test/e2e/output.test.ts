/**
 * Output rules: shard caps by batches and bytes, the manifest's shard receipts, `--out -`,
 * closed pipes, --force and the atomic temporary directory.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BIN,
  README_INPUTS,
  REPO,
  buildOk,
  concatShards,
  expectShardsMatchManifest,
  leftoverTmpDirs,
  parseLines,
  parseStderr,
  readBatches,
  readManifest,
  removeTempDirs,
  run,
  snapshotTree,
  tempDir,
  runAndCloseAfterFirstLine,
} from './helpers.js';

afterAll(removeTempDirs);

// README options: 83 steps per epoch × 2 epochs = 166 batches (see readme.test.ts for the arithmetic)
const ARGS = [...README_INPUTS, '--batch-size', '4', '--small-threshold', '12', '--drop-threshold', '20', '--epochs', '2'];
const STEPS = 166;

function reference(): { out: string; bytes: Buffer } {
  const out = path.join(tempDir(), 'out');
  buildOk([...ARGS, '--out', out]);
  const m = readManifest(out);
  expect(m.shards).toHaveLength(1); // 128 MiB default cap, no batch cap
  expectShardsMatchManifest(out, m);
  return { out, bytes: concatShards(out, m) };
}

describe('shards', () => {
  const ref = reference();

  it('--shard-max-batches 10 cuts 166 batches into 16 shards of 10 and one of 6, with the same bytes overall', () => {
    const out = path.join(tempDir(), 'out');
    buildOk([...ARGS, '--shard-max-batches', '10', '--out', out]);
    const m = readManifest(out);
    expectShardsMatchManifest(out, m);
    expect(m.shards.map((s) => s.batches)).toEqual([...Array<number>(16).fill(10), 6]);
    expect(m.shards.map((s) => s.first_step)).toEqual(Array.from({ length: 17 }, (_, i) => i * 10));
    expect(concatShards(out, m).equals(ref.bytes)).toBe(true);
  });

  it('--shard-max-bytes packs whole batches greedily and never exceeds the cap with more than one batch', () => {
    const refLines = ref.bytes.toString('utf8').split('\n').filter((l) => l !== '').map((l) => Buffer.byteLength(l) + 1);
    const cap = 10 * 1024;
    expect(Math.max(...refLines)).toBeLessThan(cap);
    const out = path.join(tempDir(), 'out');
    buildOk([...ARGS, '--shard-max-bytes', '10K', '--out', out]);
    expect(readManifest(out).options).toMatchObject({ shard_max_bytes: cap });
    const m = readManifest(out);
    expectShardsMatchManifest(out, m);
    expect(concatShards(out, m).equals(ref.bytes)).toBe(true);
    expect(m.shards.length).toBeGreaterThan(1);
    // expected packing, computed here from the line lengths
    const expected: number[] = [];
    let bytes = 0;
    let batches = 0;
    for (const n of refLines) {
      if (batches > 0 && bytes + n > cap) {
        expected.push(batches);
        bytes = 0;
        batches = 0;
      }
      bytes += n;
      batches++;
    }
    expected.push(batches);
    expect(m.shards.map((s) => s.batches)).toEqual(expected);
    for (const s of m.shards) expect(s.bytes).toBeLessThanOrEqual(cap);
  });

  it('a batch larger than --shard-max-bytes gets a shard of its own (batches are never split)', () => {
    const out = path.join(tempDir(), 'out');
    buildOk([...ARGS, '--shard-max-bytes', '100', '--out', out]);
    const m = readManifest(out);
    expectShardsMatchManifest(out, m);
    // every batch line of these fixtures is longer than 100 bytes: one shard per batch
    expect(m.shards).toHaveLength(STEPS);
    for (const s of m.shards) {
      expect(s.batches).toBe(1);
      expect(s.bytes).toBeGreaterThan(100);
    }
    expect(concatShards(out, m).equals(ref.bytes)).toBe(true);
  });

  it('both caps together: whichever comes first starts a new shard', () => {
    const out = path.join(tempDir(), 'out');
    buildOk([...ARGS, '--shard-max-bytes', '20000', '--shard-max-batches', '7', '--out', out]);
    const m = readManifest(out);
    expectShardsMatchManifest(out, m);
    for (const s of m.shards) {
      expect(s.batches).toBeLessThanOrEqual(7);
      expect(s.batches === 1 || s.bytes <= 20000).toBe(true);
    }
    expect(concatShards(out, m).equals(ref.bytes)).toBe(true);
  });
});

describe('--out -', () => {
  it('writes only batch lines to stdout (the same bytes as the shards) and only pino JSON logs to stderr', () => {
    const ref = reference();
    const r = run(['build', ...ARGS, '--out', '-']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(ref.bytes.toString('utf8'));
    const lines = parseLines(r.stdout);
    expect(lines).toHaveLength(STEPS);
    expect(lines.map((l) => l.step)).toEqual(Array.from({ length: STEPS }, (_, i) => i));
    const { logs, other } = parseStderr(r.stderr);
    expect(other).toEqual([]);
    expect(logs.length).toBeGreaterThan(0);
    // nothing but the stdout stream was written: no manifest or shard file appeared in the cwd
    expect(fs.existsSync(path.join(REPO, '-'))).toBe(false);
  });

  it('stops quietly with exit 0 when the reader closes the pipe after the first line', async () => {
    const r = await runAndCloseAfterFirstLine([...ARGS, '--out', '-']);
    expect(r.signal).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    const first = JSON.parse(r.firstLine) as { step: number };
    expect(first.step).toBe(0);
    expect(parseStderr(r.stderr).other).toEqual([]);
  });

  it('exits 0 under `| head -n 1` in a shell', () => {
    const dir = tempDir();
    const rc = path.join(dir, 'rc');
    const err = path.join(dir, 'err');
    const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
    const cmd = `( ${q(process.execPath)} ${q(BIN)} build ${ARGS.map(q).join(' ')} --out - 2>${q(err)}; echo $? >${q(rc)} ) | head -n 1`;
    const r = spawnSync('sh', ['-c', cmd], { cwd: REPO, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l !== '')).toHaveLength(1);
    expect((JSON.parse(r.stdout) as { step: number }).step).toBe(0);
    expect(fs.readFileSync(rc, 'utf8').trim(), fs.readFileSync(err, 'utf8')).toBe('0');
  });

  it('writes nothing to stdout on an input error detected before the first line', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'bad.jsonl'), '{"query":"q","pos":["p"],"neg":["n"]}\n{"query":"q2","pos":[],"neg":["n"]}\n');
    const r = run(['build', path.join(dir, 'bad.jsonl'), '--batch-size', '1', '--out', '-']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('bad.jsonl:2');
  });
});

describe('--out directory: --force and atomic replacement', () => {
  it('refuses an earlier samebatch output without --force (exit 2, untouched) and replaces it with --force', () => {
    const parent = tempDir();
    const out = path.join(parent, 'out');
    buildOk([...ARGS, '--out', out]);
    const before = snapshotTree(out);

    const again = run(['build', ...ARGS, '--seed', '1', '--out', out]);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('--force');
    expect(snapshotTree(out)).toEqual(before);
    expect(leftoverTmpDirs(parent)).toEqual([]);

    buildOk([...ARGS, '--seed', '1', '--shard-max-batches', '50', '--out', out, '--force']);
    const m = readManifest(out);
    expect(m.options).toMatchObject({ seed: 1, shard_max_batches: 50 });
    expectShardsMatchManifest(out, m);
    expect(m.shards).toHaveLength(4); // 166 = 50 + 50 + 50 + 16
    expect(snapshotTree(out)).not.toEqual(before);
    expect(leftoverTmpDirs(parent)).toEqual([]);
  });

  it('a failing run with --force leaves the earlier output untouched and no temporary directory', () => {
    const parent = tempDir();
    const out = path.join(parent, 'out');
    buildOk([...ARGS, '--out', out]);
    const before = snapshotTree(out);
    const bad = path.join(parent, 'bad.jsonl');
    fs.writeFileSync(bad, '{"query":"q","pos":["p"],"neg":["n"]}\nnot json\n');
    const r = run(['build', 'fixtures/retrieval', bad, '--out', out, '--force']);
    expect(r.status).toBe(1);
    expect(snapshotTree(out)).toEqual(before);
    expect(leftoverTmpDirs(parent)).toEqual([]);
    // and a zero-batch run, which fails after reading everything
    const z = run(['build', 'fixtures/sts/sts.jsonl', '--batch-size', '64', '--out', out, '--force']);
    expect(z.status).toBe(1);
    expect(snapshotTree(out)).toEqual(before);
    expect(leftoverTmpDirs(parent)).toEqual([]);
  });

  it('refuses a non-empty directory that is not a samebatch output, even with --force', () => {
    const parent = tempDir();
    const out = path.join(parent, 'mine');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'notes.txt'), 'keep me\n');
    fs.writeFileSync(path.join(out, 'manifest.json'), '{"tool":"something-else"}\n');
    const before = snapshotTree(out);
    for (const force of [[], ['--force']]) {
      const r = run(['build', ...ARGS, '--out', out, ...force]);
      expect(r.status).toBe(2);
      expect(snapshotTree(out)).toEqual(before);
      expect(leftoverTmpDirs(parent)).toEqual([]);
    }
  });

  it('refuses an --out that is a file (exit 2, untouched)', () => {
    const parent = tempDir();
    const out = path.join(parent, 'file.txt');
    fs.writeFileSync(out, 'data\n');
    const r = run(['build', ...ARGS, '--out', out, '--force']);
    expect(r.status).toBe(2);
    expect(fs.readFileSync(out, 'utf8')).toBe('data\n');
    expect(leftoverTmpDirs(parent)).toEqual([]);
  });

  it('writes into an existing empty directory and into a not yet existing nested one, leaving no temporary directory', () => {
    const parent = tempDir();
    const empty = path.join(parent, 'empty');
    fs.mkdirSync(empty);
    buildOk([...ARGS, '--out', empty]);
    expectShardsMatchManifest(empty, readManifest(empty));
    const nested = path.join(parent, 'a', 'b', 'out');
    buildOk([...ARGS, '--out', nested]);
    expectShardsMatchManifest(nested, readManifest(nested));
    expect(readBatches(nested)).toHaveLength(STEPS);
    expect(leftoverTmpDirs(parent)).toEqual([]);
    expect(leftoverTmpDirs(path.join(parent, 'a', 'b'))).toEqual([]);
  });
});

describe('--out placement and interruption', () => {
  it('--out inside an input directory is refused (exit 2): its shards would be read as data', () => {
    const parent = tempDir();
    fs.mkdirSync(path.join(parent, 'data'));
    fs.copyFileSync(path.join(REPO, 'fixtures', 'sts', 'sts.jsonl'), path.join(parent, 'data', 'sts.jsonl'));
    const r = run(['build', 'data', '--batch-size', '4', '--out', 'data/out'], { cwd: parent });
    expect(r.status).toBe(2);
    expect(fs.existsSync(path.join(parent, 'data', 'out'))).toBe(false);
    expect(leftoverTmpDirs(path.join(parent, 'data'))).toEqual([]);
  });

  for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
    it(`${signal} during writing: exit ${code}, no temporary directory, the earlier output untouched`, async () => {
      const parent = tempDir();
      const big = path.join(parent, 'big.jsonl');
      const lines: string[] = [];
      for (let i = 0; i < 50_000; i++) lines.push(JSON.stringify({ query: `query ${i}`, pos: [`positive ${i}`], neg: [`negative ${i}`, `other ${i}`] }));
      fs.writeFileSync(big, `${lines.join('\n')}\n`);
      const out = path.join(parent, 'out');
      buildOk(['fixtures/sts/sts.jsonl', '--batch-size', '4', '--out', out]);
      const before = snapshotTree(out);
      const child = spawn(process.execPath, [BIN, 'build', big, '--epochs', '40', '--log-level', 'warn', '--out', out, '--force'], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (d: string) => {
        stderr += d;
      });
      const exited = new Promise<{ status: number | null; sig: NodeJS.Signals | null }>((resolve) => child.on('close', (status, sig) => resolve({ status, sig })));
      // wait until the work directory exists and holds a shard, then interrupt
      let sent = false;
      const deadline = Date.now() + 20_000;
      while (!sent && Date.now() < deadline && child.exitCode === null) {
        const tmp = leftoverTmpDirs(parent)[0];
        if (tmp !== undefined && fs.readdirSync(path.join(parent, tmp)).length > 0) {
          child.kill(signal);
          sent = true;
        } else {
          await new Promise((r) => setTimeout(r, 5));
        }
      }
      expect(sent, 'the run was still writing when the signal was sent').toBe(true);
      const { status, sig } = await exited;
      expect(sig, stderr).toBeNull();
      expect(status, stderr).toBe(code);
      expect(snapshotTree(out)).toEqual(before);
      expect(leftoverTmpDirs(parent)).toEqual([]);
    });
  }
});
