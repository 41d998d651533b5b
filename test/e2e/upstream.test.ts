/**
 * Golden runs over FlagEmbedding's own example data (../shared/fixtures-upstream: 8 JSONL files ×
 * 10 rows; see its PROVENANCE.md). Every expectation is computed by hand below.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  REPO,
  UPSTREAM,
  buildOk,
  checkInvariants,
  countBatches,
  expectShardsMatchManifest,
  indexInputs,
  readBatches,
  readManifest,
  removeTempDirs,
  tempDir,
  type ManifestGroup,
} from './helpers.js';

afterAll(removeTempDirs);

const HAVE_UPSTREAM = fs.existsSync(UPSTREAM);
const U = path.relative(REPO, UPSTREAM).split(path.sep).join('/'); // "../shared/fixtures-upstream"
const INPUTS = [`${U}/retrieval`, `${U}/sts/sts.jsonl`, `${U}/classification-no_in_batch_neg`, `${U}/clustering-no_in_batch_neg`];

type Golden = Pick<ManifestGroup, 'id' | 'members' | 'merged' | 'examples' | 'type' | 'no_in_batch_neg' | 'batch_size' | 'global_batch_size' | 'batches_per_epoch' | 'tail_left_out_per_epoch'>;

function golden(id: string, members: string[], type: string, nibn: boolean, batchSize: number, worldSize: number, examples: number): Golden {
  const global = batchSize * worldSize;
  return {
    id,
    members: members.map((m) => `${U}/${m}`),
    merged: id.includes('<small'),
    examples,
    type,
    no_in_batch_neg: nibn,
    batch_size: batchSize,
    global_batch_size: global,
    batches_per_epoch: Math.floor(examples / global),
    tail_left_out_per_epoch: examples % global,
  };
}

function runUpstream(extra: string[]) {
  const out = path.join(tempDir(), 'out');
  buildOk([...INPUTS, ...extra, '--out', out]);
  const m = readManifest(out);
  expectShardsMatchManifest(out, m);
  return { out, m, lines: readBatches(out, m) };
}

describe.skipIf(!HAVE_UPSTREAM)('upstream example data (FlagEmbedding example_data)', () => {
  it('default thresholds, --batch-size 4 --world-size 2: every file is its own group', () => {
    const { m, lines } = runUpstream(['--batch-size', '4', '--world-size', '2']);
    // --small-threshold 0: no file is small, so each of the 8 files (10 rows) is a group.
    // normal / only_1neg: 4 per device × 2 ranks = global 8 → 10 = 1·8 + 2 → 1 batch, tail 2
    // symmetric_*:       floor(4/2) = 2 per device × 2 = global 4 → 10 = 2·4 + 2 → 2 batches, tail 2
    const expected: Golden[] = [
      golden('retrieval/msmarco.jsonl', ['retrieval/msmarco.jsonl'], 'normal', false, 4, 2, 10), // 1 batch, tail 2
      golden('retrieval/nli.jsonl', ['retrieval/nli.jsonl'], 'only_1neg', false, 4, 2, 10), // 1 batch, tail 2
      golden('retrieval/nq.jsonl', ['retrieval/nq.jsonl'], 'normal', false, 4, 2, 10), // 1 batch, tail 2
      golden('sts.jsonl', ['sts/sts.jsonl'], 'symmetric_sts', false, 2, 2, 10), // 2 batches, tail 2
      golden('classification-no_in_batch_neg/AmazonClassification.jsonl', ['classification-no_in_batch_neg/AmazonClassification.jsonl'], 'symmetric_class', true, 2, 2, 10),
      golden('classification-no_in_batch_neg/Banking77Classification.jsonl', ['classification-no_in_batch_neg/Banking77Classification.jsonl'], 'symmetric_class', true, 2, 2, 10),
      golden('clustering-no_in_batch_neg/arXiv_title.jsonl', ['clustering-no_in_batch_neg/arXiv_title.jsonl'], 'symmetric_clustering', true, 2, 2, 10),
      golden('clustering-no_in_batch_neg/bioRXiv_title.jsonl', ['clustering-no_in_batch_neg/bioRXiv_title.jsonl'], 'symmetric_clustering', true, 2, 2, 10),
    ];
    expect(expected.map((g) => [g.batches_per_epoch, g.tail_left_out_per_epoch])).toEqual([
      [1, 2], [1, 2], [1, 2], [2, 2], [2, 2], [2, 2], [2, 2], [2, 2],
    ]);
    expect(m.groups).toEqual(expected);
    expect(m.dropped).toEqual([]);
    expect(m.skipped).toEqual([]);
    expect(m.totals).toMatchObject({
      steps_per_epoch: 13, // 3·1 + 5·2
      steps: 13,
      examples_per_epoch: 64, // 3·1·8 + 5·2·4 = 24 + 40; + 16 tail = 80 rows
      tail_left_out_per_epoch: 16, // 8·2
      groups: 8,
      files: 8,
      records: 80,
      records_kept: 80,
    });
    expect(lines).toHaveLength(13);
    const counts = countBatches(lines);
    for (const g of expected) expect(counts.get(`0\u0000${g.id}`), g.id).toBe(g.batches_per_epoch);
    checkInvariants(m, lines, indexInputs(INPUTS), { epochs: 1, worldSize: 2 });
  });

  it('--small-threshold 11 --drop-threshold 15: msmarco+nq merge, nli dropped, sts file argument skipped', () => {
    const { m, lines } = runUpstream(['--batch-size', '4', '--world-size', '2', '--small-threshold', '11', '--drop-threshold', '15']);
    // every file has 10 < 11 rows, so all are small.
    // retrieval/: normal = msmarco 10 + nq 10 = 20 >= 15 → kept; global 4·2 = 8 → 20 = 2·8 + 4
    //             only_1neg = nli 10 < 15 → dropped
    // sts/sts.jsonl is a file argument with 10 < 11 → skipped
    // classification: Amazon 10 + Banking77 10 = 20 symmetric_class; global 2·2 = 4 → 5 batches, tail 0
    // clustering:     arXiv 10 + bioRXiv 10 = 20 symmetric_clustering; 5 batches, tail 0
    const expected: Golden[] = [
      golden('retrieval/<small:normal>', ['retrieval/msmarco.jsonl', 'retrieval/nq.jsonl'], 'normal', false, 4, 2, 20),
      golden('classification-no_in_batch_neg/<small:symmetric_class>', ['classification-no_in_batch_neg/AmazonClassification.jsonl', 'classification-no_in_batch_neg/Banking77Classification.jsonl'], 'symmetric_class', true, 2, 2, 20),
      golden('clustering-no_in_batch_neg/<small:symmetric_clustering>', ['clustering-no_in_batch_neg/arXiv_title.jsonl', 'clustering-no_in_batch_neg/bioRXiv_title.jsonl'], 'symmetric_clustering', true, 2, 2, 20),
    ];
    expect(expected.map((g) => [g.batches_per_epoch, g.tail_left_out_per_epoch])).toEqual([[2, 4], [5, 0], [5, 0]]);
    expect(m.groups).toEqual(expected);
    expect(m.dropped).toEqual([
      { id: 'retrieval/<small:only_1neg>', members: [`${U}/retrieval/nli.jsonl`], records: 10, reason: expect.stringContaining('15') },
    ]);
    expect(m.skipped).toEqual([{ path: `${U}/sts/sts.jsonl`, records: 10, reason: expect.stringContaining('11') }]);
    expect(m.totals).toMatchObject({
      steps_per_epoch: 12, // 2 + 5 + 5
      steps: 12,
      examples_per_epoch: 56, // 16 + 20 + 20
      tail_left_out_per_epoch: 4,
      groups: 3,
      records: 80, // 56 + 4 tail + 10 dropped + 10 skipped
    });
    expect(lines).toHaveLength(12);
    checkInvariants(m, lines, indexInputs(INPUTS), { epochs: 1, worldSize: 2 });
  });

  it('--knowledge-distillation on the upstream retrieval directory keeps the teacher scores', () => {
    const out = path.join(tempDir(), 'out');
    const args = [`${U}/retrieval`];
    buildOk([...args, '--knowledge-distillation', '--batch-size', '2', '--provenance', '--out', out]);
    const m = readManifest(out);
    // 10 rows each, 2 per device → 5 batches per file, 15 steps
    expect(m.groups.map((g) => [g.id, g.batches_per_epoch, g.tail_left_out_per_epoch])).toEqual([
      ['retrieval/msmarco.jsonl', 5, 0],
      ['retrieval/nli.jsonl', 5, 0],
      ['retrieval/nq.jsonl', 5, 0],
    ]);
    checkInvariants(m, readBatches(out, m), indexInputs(args), { epochs: 1, worldSize: 1, knowledgeDistillation: true });
  });
});
