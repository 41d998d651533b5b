/**
 * Helpers shared by test/bad-input and test/failures: spawn the real binary, look at what it
 * left on disk, and read its standard error. Self-contained (does not use test/e2e/helpers.ts).
 */
import { spawn, type StdioOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.join(REPO, 'bin', 'samebatch.js');
export const STS = path.join(REPO, 'fixtures', 'sts', 'sts.jsonl');

export interface RunResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  /** Extra environment (TMPDIR for a private scratch area, ...). */
  env?: Record<string, string>;
  /** Standard output: a file descriptor to write to instead of a pipe. */
  stdoutFd?: number;
  /** Kill the child (SIGKILL) after this many milliseconds. */
  timeoutMs?: number;
}

/** Starts `node bin/samebatch.js ...args`; stdout/stderr are collected unless redirected. */
export function start(args: readonly string[], opts: RunOptions = {}): { child: ReturnType<typeof spawn>; done: Promise<RunResult> } {
  const stdio: StdioOptions = ['ignore', opts.stdoutFd ?? 'pipe', 'pipe'];
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? REPO,
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    stdio,
    ...(opts.timeoutMs === undefined ? {} : { timeout: opts.timeoutMs, killSignal: 'SIGKILL' as const }),
  });
  const done = new Promise<RunResult>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (d: string) => {
      stdout += d;
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
  return { child, done };
}

/** Runs `node bin/samebatch.js ...args` to the end. */
export function run(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return start(args, opts).done;
}

/** Runs a build that must succeed; throws with its stderr when it does not. */
export async function buildOk(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(['build', ...args], opts);
  if (r.status !== 0) throw new Error(`samebatch build ${args.join(' ')} exited ${String(r.status)}\n${r.stderr}`);
  return r;
}

/** A fresh temporary directory (real path, so that symlinked /tmp does not confuse comparisons). */
export function tempDir(prefix: string): string {
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), `samebatch-test-${prefix}-`)));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Every file below `dir` (relative path → sha256 of its bytes) and every directory (→ "dir"). */
export function treeDigest(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (abs: string, rel: string): void => {
    for (const e of fs.readdirSync(abs, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      const a = path.join(abs, e.name);
      if (e.isDirectory()) {
        out[`${r}/`] = 'dir';
        walk(a, r);
      } else {
        out[r] = createHash('sha256').update(fs.readFileSync(a)).digest('hex');
      }
    }
  };
  walk(dir, '');
  return out;
}

/** Temporary directories samebatch made beside `out` (`.NAME.samebatch-tmp-*`) that are still there. */
export function tmpSiblings(out: string): string[] {
  const abs = path.resolve(out);
  const parent = path.dirname(abs);
  const prefix = `.${path.basename(abs)}.samebatch-tmp-`;
  if (!fs.existsSync(parent)) return [];
  return fs.readdirSync(parent).filter((n) => n.startsWith(prefix));
}

/** `samebatch-work-*` scratch directories in `dir` (a private TMPDIR given to the child). */
export function workDirs(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((n) => n.startsWith('samebatch-work-'));
}

/** The `samebatch: error CODE: ...` lines of standard error. */
export function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('samebatch: error '));
}

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** The pino JSON lines of standard error (other lines are left out). */
export function logLines(stderr: string): LogLine[] {
  const out: LogLine[] = [];
  for (const l of stderr.split('\n')) {
    if (!l.startsWith('{')) continue;
    try {
      const v = JSON.parse(l) as unknown;
      if (typeof v === 'object' && v !== null && typeof (v as LogLine).level === 'number') out.push(v as LogLine);
    } catch {
      // not a log line
    }
  }
  return out;
}

/** Text that must never appear on standard error: a stack trace or an internal error. */
export function alarming(stderr: string): string[] {
  return stderr.split('\n').filter((l) => /internal error|^\s+at .+[:(]\d+|Error:.*\n?\s+at |Unhandled|uncaught/i.test(l));
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Builds the earlier output used by the tests: the STS fixture, batch size 4. */
export async function buildEarlierOutput(out: string): Promise<void> {
  await buildOk([STS, '--batch-size', '4', '--out', out, '--log-level', 'silent']);
  if (!fs.existsSync(path.join(out, 'manifest.json'))) throw new Error(`no manifest in ${out}`);
}

export async function waitFor(pred: () => boolean, timeoutMs: number, everyMs = 5): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (pred()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return pred();
}
