/**
 * Real write failures: a 512 KiB tmpfs that the output does not fit on, and standard output on
 * /dev/full. Each must end with exit 1 and `samebatch: error E_WRITE: ...` naming a path, never
 * a crash, and leave no partial output, no temporary directory and any earlier output untouched.
 *
 * Mounting needs root (as in CI); elsewhere the tmpfs tests are skipped with the reason.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  alarming,
  buildEarlierOutput,
  errorLines,
  removeDir,
  run,
  start,
  STS,
  tempDir,
  tmpSiblings,
  treeDigest,
  workDirs,
} from '../bad-input/helpers.js';

let root = '';
let mnt = '';
let mounted = false;
let skipReason = '';
let input = '';

beforeAll(() => {
  root = tempDir('write-failure');
  // ~2 MB of JSON Lines: the shards do not fit in 512 KiB.
  input = path.join(root, 'input.jsonl');
  const pad = 'x'.repeat(1000);
  fs.writeFileSync(input, Array.from({ length: 2000 }, (_, i) => JSON.stringify({ query: `q${i} ${pad}`, pos: [`p${i}`], neg: [`n${i}`] })).join('\n'));
  mnt = path.join(root, 'mnt');
  fs.mkdirSync(mnt);
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    skipReason = `mounting a tmpfs needs root (running as uid ${process.getuid()})`;
    return;
  }
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', mnt], { stdio: 'pipe' });
    mounted = true;
  } catch (err) {
    skipReason = `cannot mount a tmpfs: ${String((err as { stderr?: unknown }).stderr ?? err).trim()}`;
  }
});

afterAll(() => {
  if (mounted) {
    try {
      execFileSync('umount', [mnt], { stdio: 'pipe' });
    } catch {
      execFileSync('umount', ['-l', mnt], { stdio: 'pipe' });
    }
  }
  if (root !== '') removeDir(root);
});

describe('output on a full file system (512 KiB tmpfs)', () => {
  test('a new --out: exit 1, E_WRITE naming a path, nothing left on the tmpfs', async (ctx) => {
    if (!mounted) ctx.skip(skipReason);
    const tmp = path.join(root, 'tmp-1');
    fs.mkdirSync(tmp);
    const out = path.join(mnt, 'out');
    const r = await run(['build', input, '--batch-size', '4', '--out', out], { env: { TMPDIR: tmp } });
    const context = `--- stderr ---\n${r.stderr}`;
    expect(r.signal, context).toBeNull();
    expect(r.status, context).toBe(1);
    const lines = errorLines(r.stderr);
    expect(lines, context).toHaveLength(1);
    expect(lines[0], context).toMatch(/^samebatch: error E_WRITE: /);
    expect(lines[0], 'names a path on the full file system').toContain(mnt);
    expect(lines[0]).toMatch(/ENOSPC|no space/i);
    expect(alarming(r.stderr), context).toEqual([]);
    expect(fs.readdirSync(mnt), 'no partial output, no temporary directory').toEqual([]);
    expect(workDirs(tmp)).toEqual([]);
  });

  test('an earlier output in --out with --force: exit 1, E_WRITE, the earlier output untouched', async (ctx) => {
    if (!mounted) ctx.skip(skipReason);
    const tmp = path.join(root, 'tmp-2');
    fs.mkdirSync(tmp);
    const out = path.join(mnt, 'out');
    await buildEarlierOutput(out);
    const before = treeDigest(out);
    const r = await run(['build', input, '--batch-size', '4', '--out', out, '--force'], { env: { TMPDIR: tmp } });
    const context = `--- stderr ---\n${r.stderr}`;
    expect(r.status, context).toBe(1);
    const lines = errorLines(r.stderr);
    expect(lines, context).toHaveLength(1);
    expect(lines[0], context).toMatch(/^samebatch: error E_WRITE: /);
    expect(lines[0]).toContain(mnt);
    expect(alarming(r.stderr), context).toEqual([]);
    expect(fs.readdirSync(mnt), 'only the earlier output, no temporary directory').toEqual(['out']);
    expect(treeDigest(out), 'earlier output byte for byte untouched').toEqual(before);
    expect(workDirs(tmp)).toEqual([]);
    removeDir(out);
  });
});

describe('scratch space on a full file system (TMPDIR on the 512 KiB tmpfs)', () => {
  test.for([
    ['a .jsonl.gz that decompresses past it', 'input.jsonl.gz'],
    ['a .json array rewritten past it', 'input.json'],
  ] as const)('%s: exit 1, E_WRITE, no scratch directory or output left', async ([, file], ctx) => {
    if (!mounted) ctx.skip(skipReason);
    const src = path.join(root, file);
    if (!fs.existsSync(src)) {
      const text = fs.readFileSync(input, 'utf8');
      if (file.endsWith('.gz')) fs.writeFileSync(src, zlib.gzipSync(text));
      else fs.writeFileSync(src, `[${text.split('\n').join(',\n')}]`);
    }
    const out = path.join(root, `out-${file}`);
    const r = await run(['build', src, '--batch-size', '4', '--out', out], { env: { TMPDIR: mnt } });
    const context = `--- stderr ---\n${r.stderr}`;
    expect(r.signal, context).toBeNull();
    expect(r.status, context).toBe(1);
    const lines = errorLines(r.stderr);
    expect(lines, context).toHaveLength(1);
    expect(lines[0], context).toMatch(/^samebatch: error E_WRITE: /);
    expect(lines[0], context).toContain(mnt);
    expect(alarming(r.stderr), context).toEqual([]);
    expect(fs.readdirSync(mnt), 'no scratch directory left on the tmpfs').toEqual([]);
    expect(fs.existsSync(out)).toBe(false);
    expect(tmpSiblings(out)).toEqual([]);
  });
});

describe('standard output on /dev/full', () => {
  test('--out -: exit 1 with E_WRITE, not a crash', async () => {
    const fd = fs.openSync('/dev/full', 'w');
    let p: ReturnType<typeof start>;
    try {
      p = start(['build', STS, '--batch-size', '4', '--out', '-'], { stdoutFd: fd });
    } finally {
      fs.closeSync(fd); // the child has its own copy
    }
    const r = await p.done;
    const context = `--- stderr ---\n${r.stderr}`;
    expect(r.signal, context).toBeNull();
    expect(r.status, context).toBe(1);
    const lines = errorLines(r.stderr);
    expect(lines, context).toHaveLength(1);
    expect(lines[0], context).toMatch(/^samebatch: error E_WRITE: .*(standard output|stdout)/);
    expect(lines[0]).toMatch(/ENOSPC|no space/i);
    expect(alarming(r.stderr), context).toEqual([]);
  });
});
