/**
 * The README's opening command, taken from README.md itself and run against the bundled fixtures.
 * Expected groups below are derived by hand from SPEC.md and the fixture sizes
 * (scripts/make-fixtures.mjs), never from the tool's output.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BIN,
  REPO,
  checkInvariants,
  countBatches,
  expectShardsMatchManifest,
  indexInputs,
  parseStderr,
  readBatches,
  readManifest,
  removeTempDirs,
  run,
  tempDir,
  WARN,
} from './helpers.js';

afterAll(removeTempDirs);

/** The `./bin/samebatch.js build ...` part of the first line of README.md's first ```sh block. */
function readmeCommand(): string[] {
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const block = /```sh\r?\n([\s\S]*?)```/.exec(readme);
  if (!block || block[1] === undefined) throw new Error('README.md has no ```sh block');
  const first = block[1].split(/\r?\n/)[0] ?? '';
  const part = first
    .split('&&')
    .map((s) => s.trim())
    .find((s) => s.startsWith('./bin/samebatch.js build'));
  if (part === undefined) throw new Error(`README's first command has no ./bin/samebatch.js build part: ${first}`);
  return part.split(/\s+/);
}

interface ExpectedGroup {
  id: string;
  members: string[];
  examples: number;
  type: string;
  batchSize: number;
  batches: number;
  tail: number;
  noInBatchNeg: boolean;
}

// --batch-size 4 --small-threshold 12 --drop-threshold 20 --epochs 2, world size 1:
// symmetric types take floor(4 / 2) = 2; hotpotqa's records carry batch_size 3.
const R = 'fixtures/retrieval';
const C = 'fixtures/classification-no_in_batch_neg';
const K = 'fixtures/clustering-no_in_batch_neg';
const EXPECTED: ExpectedGroup[] = [
  // retrieval/: msmarco 40 and nli 30 are >= 12 → own groups; hotpotqa 10 + nq 11 (normal) merge;
  // fever 6 (only_1neg) is a merge of its own, 6 < 20 → dropped.
  { id: 'retrieval/msmarco.jsonl', members: [`${R}/msmarco.jsonl`], examples: 40, type: 'normal', batchSize: 4, batches: 10, tail: 0, noInBatchNeg: false }, // 40 = 10·4
  { id: 'retrieval/nli.jsonl', members: [`${R}/nli.jsonl`], examples: 30, type: 'only_1neg', batchSize: 4, batches: 7, tail: 2, noInBatchNeg: false }, // 30 = 7·4 + 2
  { id: 'retrieval/<small:normal>', members: [`${R}/hotpotqa.jsonl`, `${R}/nq.jsonl`], examples: 21, type: 'normal', batchSize: 3, batches: 7, tail: 0, noInBatchNeg: false }, // min(3, 4) = 3; 21 = 7·3
  { id: 'sts.jsonl', members: ['fixtures/sts/sts.jsonl'], examples: 25, type: 'symmetric_sts', batchSize: 2, batches: 12, tail: 1, noInBatchNeg: false }, // 25 = 12·2 + 1
  { id: 'classification-no_in_batch_neg/AmazonClassification.jsonl', members: [`${C}/AmazonClassification.jsonl`], examples: 24, type: 'symmetric_class', batchSize: 2, batches: 12, tail: 0, noInBatchNeg: true },
  { id: 'classification-no_in_batch_neg/Banking77Classification.jsonl', members: [`${C}/Banking77Classification.jsonl`], examples: 16, type: 'symmetric_class', batchSize: 2, batches: 8, tail: 0, noInBatchNeg: true },
  // Emotion 11 + TweetSentiment 10 = 21 >= 20 → kept; 21 = 10·2 + 1
  { id: 'classification-no_in_batch_neg/<small:symmetric_class>', members: [`${C}/EmotionClassification.jsonl`, `${C}/TweetSentimentClassification.jsonl`], examples: 21, type: 'symmetric_class', batchSize: 2, batches: 10, tail: 1, noInBatchNeg: true },
  { id: 'clustering-no_in_batch_neg/arXiv_title.jsonl', members: [`${K}/arXiv_title.jsonl`], examples: 20, type: 'symmetric_clustering', batchSize: 2, batches: 10, tail: 0, noInBatchNeg: true },
  { id: 'clustering-no_in_batch_neg/bioRXiv_title.jsonl', members: [`${K}/bioRXiv_title.jsonl`], examples: 14, type: 'symmetric_clustering', batchSize: 2, batches: 7, tail: 0, noInBatchNeg: true },
];
// 10 + 7 + 7 + 12 + 12 + 8 + 10 + 10 + 7 = 83 steps per epoch; 2 epochs → 166
const STEPS_PER_EPOCH = 83;
const EPOCHS = 2;

describe('README command', () => {
  it('runs as written (with --out in a temp dir) and gives the hand-derived groups, in the manifest and in the shards', () => {
    const cmd = readmeCommand();
    expect(cmd[0]).toBe('./bin/samebatch.js');
    expect(cmd[1]).toBe('build');
    expect(() => fs.accessSync(BIN, fs.constants.X_OK), 'bin/samebatch.js is executable as the README runs it').not.toThrow();
    const outAt = cmd.indexOf('--out');
    expect(outAt).toBeGreaterThan(1);
    expect(cmd).toEqual(expect.arrayContaining(['--batch-size', '4', '--small-threshold', '12', '--drop-threshold', '20', '--epochs', '2']));
    const out = path.join(tempDir(), 'shards');
    const args = cmd.slice(1);
    args[outAt] = out;
    const r = run(args);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    // every deliberate loss is a warning on stderr: the dropped merge and each group's tail
    const warnings = parseStderr(r.stderr).logs.filter((l) => l.level === WARN).map((l) => l.msg);
    for (const id of ['retrieval/<small:only_1neg>', 'retrieval/nli.jsonl', 'sts.jsonl', 'classification-no_in_batch_neg/<small:symmetric_class>']) {
      expect(warnings.some((w) => w.includes(id)), `warning about ${id}`).toBe(true);
    }
    expect(parseStderr(r.stderr).other).toEqual([]);

    const m = readManifest(out);
    expect(m.tool).toBe('samebatch');
    expect(m.version).toBe((JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version);
    expect(m.options).toMatchObject({ batch_size: 4, world_size: 1, seed: 42, epochs: 2, small_threshold: 12, drop_threshold: 20, knowledge_distillation: false });
    expect(m.groups.map((g) => g.id)).toEqual(EXPECTED.map((g) => g.id));
    for (const [i, e] of EXPECTED.entries()) {
      expect(m.groups[i], e.id).toMatchObject({
        id: e.id,
        members: e.members,
        merged: e.members.length > 1,
        examples: e.examples,
        type: e.type,
        no_in_batch_neg: e.noInBatchNeg,
        batch_size: e.batchSize,
        global_batch_size: e.batchSize,
        batches_per_epoch: e.batches,
        tail_left_out_per_epoch: e.tail,
      });
    }
    expect(m.dropped).toEqual([
      { id: 'retrieval/<small:only_1neg>', members: [`${R}/fever.jsonl`], records: 6, reason: expect.stringContaining('--drop-threshold 20') },
    ]);
    expect(m.skipped).toEqual([]);
    expect(m.passed_over).toEqual([]);
    expect(m.totals).toMatchObject({
      epochs: 2,
      world_size: 1,
      steps_per_epoch: STEPS_PER_EPOCH,
      steps: STEPS_PER_EPOCH * EPOCHS,
      tail_left_out_per_epoch: 2 + 1 + 1, // nli, sts, small classification
      examples_per_epoch: 217 - 6 - 4, // all records − fever − tails
      groups: 9,
      files: 12,
      records: 217,
      records_kept: 217,
    });
    expect(m.inputs.find((i) => i.path === `${R}/fever.jsonl`)).toMatchObject({ records: 6, group: null, type: 'only_1neg' });
    expect(m.inputs.find((i) => i.path === `${R}/hotpotqa.jsonl`)).toMatchObject({ records: 10, group: 'retrieval/<small:normal>' });
    for (const inp of m.inputs) expect(inp.bytes, inp.path).toBe(fs.statSync(path.join(REPO, inp.path)).size);

    // the shard lines themselves
    expectShardsMatchManifest(out, m);
    const lines = readBatches(out, m);
    expect(lines).toHaveLength(166);
    const perGroup = countBatches(lines);
    for (let epoch = 0; epoch < EPOCHS; epoch++) {
      for (const e of EXPECTED) {
        expect(perGroup.get(`${epoch}\u0000${e.id}`) ?? 0, `epoch ${epoch} ${e.id}`).toBe(e.batches);
      }
    }
    for (const l of lines) {
      const e = EXPECTED.find((g) => g.id === l.group);
      if (e === undefined) throw new Error(`unexpected group ${l.group}`);
      expect(l.batch_size).toBe(e.batchSize);
      expect(l.examples).toHaveLength(e.batchSize);
      expect(l.type).toBe(e.type);
      expect(l.no_in_batch_neg).toBe(e.noInBatchNeg);
    }
    // no fever example anywhere
    expect(lines.some((l) => l.examples.some((x) => x.query.startsWith('fever ')))).toBe(false);
    checkInvariants(m, lines, indexInputs(['fixtures/retrieval', 'fixtures/sts/sts.jsonl', C, K]), { epochs: EPOCHS, worldSize: 1 });
  });
});
