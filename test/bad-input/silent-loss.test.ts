/**
 * Entries of a directory argument that look like data files but cannot be read as one must not
 * vanish without a word (SPEC: data left out is reported, never silently ignored): a dangling
 * symbolic link `broken.jsonl` and a named pipe `pipe.jsonl` beside a good data file. Either the
 * run fails naming the entry, or it goes on and warns about it; it must not hang on the pipe.
 * Made at test time (version control keeps neither well).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { logLines, REPO, removeDir, run, tempDir } from './helpers.js';

const PLAIN = path.join(REPO, 'test', 'bad-input', 'good', 'plain.jsonl');
let root = '';

beforeAll(() => {
  root = tempDir('silent-loss');
  fs.mkdirSync(path.join(root, 'dangling'));
  fs.copyFileSync(PLAIN, path.join(root, 'dangling', 'a.jsonl'));
  fs.symlinkSync('nowhere.jsonl', path.join(root, 'dangling', 'broken.jsonl'));
  fs.mkdirSync(path.join(root, 'fifo'));
  fs.copyFileSync(PLAIN, path.join(root, 'fifo', 'a.jsonl'));
  execFileSync('mkfifo', [path.join(root, 'fifo', 'pipe.jsonl')]);
});

afterAll(() => {
  if (root !== '') removeDir(root);
});

/** True when the entry is named by the error line or by a warning. */
function reported(stderr: string, entry: string): boolean {
  if (stderr.split('\n').some((l) => l.startsWith('samebatch: error ') && l.includes(entry))) return true;
  return logLines(stderr).some((l) => l.level >= 40 && JSON.stringify(l).includes(entry));
}

describe('data-file names that are not readable files', () => {
  test.concurrent.for([
    ['a dangling symbolic link', 'dangling', 'dangling/broken.jsonl'],
    ['a named pipe', 'fifo', 'fifo/pipe.jsonl'],
  ] as const)('%s in a directory argument is reported', async ([, dir, entry]) => {
    const r = await run(['build', dir, '--batch-size', '1', '--out', '-', '--log-level', 'warn'], { cwd: root, timeoutMs: 15_000 });
    expect(r.signal, `killed after 15 s (hung?)\n${r.stderr}`).toBeNull();
    expect([0, 1, 2]).toContain(r.status);
    expect(reported(r.stderr, entry), `stderr does not name ${entry}:\n${r.stderr || '(empty)'}\nexit ${String(r.status)}, ${r.stdout.split('\n').length - 1} batch lines`).toBe(true);
  });
});
