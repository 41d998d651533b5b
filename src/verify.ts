/**
 * `samebatch verify DIR`: the manifest, then every shard sequence in lockstep, step by step,
 * checked against the manifest and the batch invariants. Fails (E_VERIFY) at the first
 * `shard:line` that breaks a rule; reads nothing twice and holds no shard in memory.
 */
import path from 'node:path';
import { readVerifyModel, StepChecker, verifyFailure, type StepLine } from './core/verify.js';
import type { Logger } from './io/log.js';
import { checkShardsPresent, readManifestOf, ShardLines, unlistedEntries } from './io/verify-dir.js';

export interface VerifyEnv {
  logger: Logger;
  /** Aborted by a signal handler: verification stops at the next step. */
  signal?: AbortSignal;
}

export interface VerifyResult {
  dir: string;
  format: string;
  layout: string;
  shards: number;
  steps: number;
  epochs: number;
  examples: number;
  /** What could not be checked (a layout or format this version does not know). */
  notes: string[];
  /** Files in the directory the manifest does not list (ignored). */
  unlisted: string[];
  /** One line for people. */
  summary: string;
}

function plural(n: number, word: string): string {
  return `${n} ${n === 1 ? word : `${word}s`}`;
}

export async function verify(dir: string, env: VerifyEnv): Promise<VerifyResult> {
  const log = env.logger;
  const manifest = readManifestOf(dir);
  const model = readVerifyModel(manifest.value, manifest.shown);
  const shards = model.sequences.flat();
  checkShardsPresent(dir, shards);
  const unlisted = unlistedEntries(dir, shards);
  for (const u of unlisted) log.warn({ stage: 'verify', path: path.join(dir, u) }, `${path.join(dir, u)}: not listed in the manifest (ignored)`);
  for (const note of model.notes) log.warn({ stage: 'verify', note }, note);

  const checker = new StepChecker(model);
  const sources = model.sequences.map((seq) => new ShardLines(dir, seq));
  try {
    for (;;) {
      if (env.signal?.aborted) throw env.signal.reason;
      const lines: StepLine[] = [];
      let ended = 0;
      for (const src of sources) {
        const l = await src.next();
        if (l === null) ended++;
        else lines.push(l);
      }
      if (ended === sources.length) break;
      if (ended > 0) {
        // Receipts say every sequence holds totals.steps lines, so one ends early only when its shards changed.
        throw verifyFailure(lines[0]?.where ?? manifest.shown, `step ${checker.steps}: some ranks' shards end here while others go on`);
      }
      const examples = checker.checkStep(lines);
      sources.forEach((src, i) => src.count(examples[i] ?? null));
      // Reads are synchronous: give signal handlers a turn now and then.
      if (checker.steps % 256 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    for (const src of sources) src.close();
  }
  checker.finish(manifest.shown);

  const examples = shards.reduce((n, s) => n + s.examples, 0);
  const checked = model.checksPayload
    ? 'bytes, sha256, counts and batch invariants hold'
    : model.checksHeader
      ? 'bytes, sha256, counts and batch headers hold'
      : 'bytes, sha256, line counts and step order hold';
  const layout = model.layout === 'per-rank' ? `, ${plural(model.worldSize, 'rank')}` : '';
  const summary =
    `ok ${dir}: ${plural(shards.length, 'shard')}${layout}, ${plural(checker.steps, 'step')} ` +
    `(${plural(model.epochs, 'epoch')}), ${plural(examples, 'example')}: ${checked}` +
    (model.notes.length > 0 ? ` (${model.notes.join('; ')})` : '');
  log.info({ stage: 'verify', dir, shards: shards.length, steps: checker.steps, examples, notes: model.notes }, `verified ${dir}`);
  return {
    dir,
    format: model.format,
    layout: model.layout,
    shards: shards.length,
    steps: checker.steps,
    epochs: model.epochs,
    examples,
    notes: model.notes,
    unlisted,
    summary,
  };
}
