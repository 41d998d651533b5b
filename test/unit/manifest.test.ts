import { describe, expect, it } from 'vitest';
import { groupDatasets } from '../../src/core/group.js';
import { buildManifest, MANIFEST_FORMAT, type ManifestInput } from '../../src/core/manifest.js';
import { countGroup } from '../../src/core/plan.js';
import type { ShardInfo } from '../../src/types.js';
import { dirFile, fileArg, fileIndexOf, indexed, noInvalid } from './builders.js';

/**
 * nq.jsonl (10) and tiny.jsonl (2, skipped) as file arguments; directory d with big.jsonl
 * (20 records capped to 12) and small x.jsonl (3) + y.jsonl (2) merged; directory e with one small
 * z.jsonl (1) dropped. Batch size 4, world size 2: global batch 8.
 */
function scenario(): ManifestInput {
  const datasets = indexed([
    fileArg('nq.jsonl', 0, { size: 10 }),
    fileArg('tiny.jsonl', 1, { size: 2 }),
    dirFile('d', 'big.jsonl', 2, { size: 12 }),
    dirFile('d', 'x.jsonl', 2, { size: 3 }),
    dirFile('d', 'y.jsonl', 2, { size: 2 }),
    dirFile('e', 'z.jsonl', 3, { size: 1 }),
  ]);
  const records = [10, 2, 20, 3, 2, 1];
  const indexes = datasets.map((d, i) =>
    fileIndexOf(d, records[i] as number, i === 0 ? { count: 2, codes: { E_FIELD: 2 }, first: ['in/nq.jsonl:4: bad'] } : noInvalid),
  );
  const grouping = groupDatasets(datasets, { batchSize: 4, smallThreshold: 5, dropThreshold: 3 });
  const shards: ShardInfo[] = [{ file: 'shard-00000.jsonl', first_step: 0, batches: 6, examples: 48, bytes: 1234, sha256: 'ab'.repeat(32) }];
  return {
    version: '9.9.9',
    options: { batch_size: 4, world_size: 2, seed: 42 },
    indexes,
    kept: datasets.map((d) => d.kept.length),
    grouping,
    counts: grouping.groups.map((g) => countGroup(g, 2)),
    passedOver: [{ path: 'd/sub', reason: 'holds 2 data files; use --recursive' }],
    epochs: 3,
    worldSize: 2,
    format: 'raw',
    perRank: false,
    shards,
  };
}

describe('buildManifest', () => {
  const input = scenario();
  const m = buildManifest(input) as Record<string, any>;

  it('names the tool, format and version, and records the options as given', () => {
    expect(m.tool).toBe('samebatch');
    expect(m.format).toBe(MANIFEST_FORMAT);
    expect(m.version).toBe('9.9.9');
    expect(m.options).toEqual({ batch_size: 4, world_size: 2, seed: 42 });
  });

  it('adds up the totals', () => {
    // nq: 10 → 1 batch + tail 2; d/big: 12 → 1 batch + tail 4; d merged: 5 → 0 batches + tail 5
    expect(m.totals).toMatchObject({
      epochs: 3,
      world_size: 2,
      steps_per_epoch: 2,
      steps: 6,
      examples_per_epoch: 16,
      tail_left_out_per_epoch: 11,
      groups: 3,
      files: 6,
      records: 38,
      records_kept: 30,
    });
  });

  it('counts records skipped as invalid', () => {
    expect(m.totals.records_invalid).toBe(2);
  });

  it('lists every input file with path, bytes, records, kept and its group (null when none)', () => {
    expect(m.inputs).toHaveLength(6);
    expect(m.inputs.map((x: any) => [x.path, x.records, x.kept])).toEqual([
      ['in/nq.jsonl', 10, 10],
      ['in/tiny.jsonl', 2, 2],
      ['in/d/big.jsonl', 20, 12],
      ['in/d/x.jsonl', 3, 3],
      ['in/d/y.jsonl', 2, 2],
      ['in/e/z.jsonl', 1, 1],
    ]);
    expect(m.inputs[0].bytes).toBe(1000);
    const mergedId = input.grouping.groups[2]?.id;
    expect(m.inputs.map((x: any) => x.group)).toEqual(['nq.jsonl', null, 'd/big.jsonl', mergedId, mergedId, null]);
  });

  it('reports invalid records per file only where there were some', () => {
    expect(m.inputs[0].invalid).toEqual({ count: 2, codes: { E_FIELD: 2 }, first: ['in/nq.jsonl:4: bad'] });
    expect(m.inputs[1].invalid).toBeNull();
  });

  it('describes each group: members, examples, batch sizes, flags, batches and tail', () => {
    expect(m.groups).toHaveLength(3);
    expect(m.groups[0]).toMatchObject({
      id: 'nq.jsonl',
      merged: false,
      members: ['in/nq.jsonl'],
      examples: 10,
      type: null,
      no_in_batch_neg: false,
      batch_size: 4,
      global_batch_size: 8,
      batches_per_epoch: 1,
      tail_left_out_per_epoch: 2,
    });
    expect(m.groups[1]).toMatchObject({ id: 'd/big.jsonl', examples: 12, batches_per_epoch: 1, tail_left_out_per_epoch: 4 });
    expect(m.groups[2]).toMatchObject({
      merged: true,
      members: ['in/d/x.jsonl', 'in/d/y.jsonl'],
      examples: 5,
      batches_per_epoch: 0,
      tail_left_out_per_epoch: 5,
    });
  });

  it('lists skipped files, dropped groups and passed-over directories with their reasons', () => {
    expect(m.skipped).toEqual([{ path: 'in/tiny.jsonl', records: 2, reason: expect.any(String) }]);
    expect(m.dropped).toHaveLength(1);
    expect(m.dropped[0]).toMatchObject({ members: ['in/e/z.jsonl'], records: 1, reason: expect.stringMatching(/drop-threshold/) });
    expect(m.passed_over).toEqual([{ path: 'd/sub', reason: 'holds 2 data files; use --recursive' }]);
  });

  it('lists the shards as given', () => {
    expect(m.shards).toEqual(input.shards);
  });

  it('is plain JSON and the same every time (no timestamps or machine facts)', () => {
    const a = JSON.stringify(buildManifest(scenario()));
    const b = JSON.stringify(buildManifest(scenario()));
    expect(a).toBe(b);
    expect(JSON.parse(a)).toEqual(m);
    expect(a).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:/);
  });
});
