import { describe, expect, it } from 'vitest';
import { groupDatasets } from '../../src/core/group.js';
import { countGroup } from '../../src/core/plan.js';
import { planReport, renderPlanText, type PlanReportInput } from '../../src/core/report.js';
import { dirFile, fileArg, fileIndexOf, indexed, noInvalid } from './builders.js';

/**
 * nq.jsonl (10, 2 more invalid) and tiny.jsonl (2, skipped) as file arguments; directory d with
 * big.jsonl (20 capped to 12) and small x (3) + y (2) merged into d/<small>; directory e with
 * small z (1), dropped. Batch size 4, world size 2: global batch 8, so nq and big make one batch
 * each (tails 2 and 4) and d/<small> none (tail 5).
 */
function scenario(skipInvalid: boolean): PlanReportInput {
  const datasets = indexed([
    fileArg('nq.jsonl', 0, { size: 10 }),
    fileArg('tiny.jsonl', 1, { size: 2 }),
    dirFile('d', 'big.jsonl', 2, { size: 12 }),
    dirFile('d', 'x.jsonl', 2, { size: 3 }),
    dirFile('d', 'y.jsonl', 2, { size: 2, type: null }),
    dirFile('e', 'z.jsonl', 3, { size: 1 }),
  ]);
  const records = [10, 2, 20, 3, 2, 1];
  const indexes = datasets.map((d, i) => fileIndexOf(d, records[i] as number, i === 0 ? { count: 2, codes: { E_FIELD: 2 }, first: ['in/nq.jsonl:4: bad'] } : noInvalid));
  const grouping = groupDatasets(datasets, { batchSize: 4, smallThreshold: 5, dropThreshold: 3 });
  return {
    version: '9.9.9',
    options: { batch_size: 4, world_size: 2, skip_invalid: skipInvalid, max_examples_per_dataset: 12 },
    indexes,
    kept: datasets.map((d) => d.kept.length),
    grouping,
    counts: grouping.groups.map((g) => countGroup(g, 2)),
    passedOver: [{ path: 'in/d/sub', reason: 'holds 2 data files; use --recursive' }],
    epochs: 3,
    worldSize: 2,
  };
}

describe('planReport', () => {
  const r = planReport(scenario(true));

  it('places every data file: grouped, skipped or dropped', () => {
    expect(r.files.map((f) => [f.path, f.status, f.group, f.batch_size, f.global_batch_size])).toEqual([
      ['in/nq.jsonl', 'grouped', 'nq.jsonl', 4, 8],
      ['in/tiny.jsonl', 'skipped', null, null, null],
      ['in/d/big.jsonl', 'grouped', 'd/big.jsonl', 4, 8],
      ['in/d/x.jsonl', 'grouped', 'd/<small>', 4, 8],
      ['in/d/y.jsonl', 'grouped', 'd/<small>', 4, 8],
      ['in/e/z.jsonl', 'dropped', 'e/<small>', null, null],
    ]);
    expect(r.files[0]).toMatchObject({ records: 10, invalid: 2, kept: 10 });
    expect(r.files[2]).toMatchObject({ records: 20, kept: 12 });
  });

  it('gives each group its share of the steps and examples', () => {
    expect(r.groups.map((g) => [g.id, g.batches_per_epoch, g.tail_left_out_per_epoch, g.share_of_steps, g.share_of_examples])).toEqual([
      ['nq.jsonl', 1, 2, 0.5, 0.5],
      ['d/big.jsonl', 1, 4, 0.5, 0.5],
      ['d/<small>', 0, 5, 0, 0],
    ]);
  });

  it('adds up the totals', () => {
    expect(r.totals).toEqual({
      files: 6,
      records: 38,
      records_invalid: 2,
      records_kept: 30,
      records_in_groups: 27,
      records_skipped: 2,
      records_dropped: 1,
      groups: 3,
      epochs: 3,
      world_size: 2,
      steps_per_epoch: 2,
      steps: 6,
      examples_per_epoch: 16,
      tail_left_out_per_epoch: 11,
    });
  });
});

describe('renderPlanText', () => {
  it('shows invalid and kept columns only when they can differ, and everything left out', () => {
    const text = renderPlanText(planReport(scenario(true)));
    expect(text).toMatch(/^path\s+records\s+invalid\s+kept\s+group/m);
    expect(text).toMatch(/^in\/tiny\.jsonl\s+2\s+0\s+2\s+skipped\s+-\s+-\s+no\s+-$/m);
    expect(text).toMatch(/^in\/e\/z\.jsonl\s+1\s+0\s+1\s+dropped \(e\/<small>\)/m);
    expect(text).toMatch(/^skipped\s+in\/tiny\.jsonl\s+2\s+file argument with 2 examples/m);
    expect(text).toMatch(/^dropped\s+e\/<small> \(in\/e\/z\.jsonl\)\s+1\s+merged small files/m);
    expect(text).toMatch(/^passed over\s+in\/d\/sub\s+holds 2 data files; use --recursive$/m);
    expect(text).toMatch(/^records invalid \(skipped\)\s+2$/m);
    const plain = renderPlanText(planReport({ ...scenario(false), options: { skip_invalid: false, max_examples_per_dataset: null } }));
    expect(plain).toMatch(/^path\s+records\s+group/m);
    expect(plain).not.toContain('records invalid');
    expect(plain.endsWith('\n')).toBe(true);
  });
});
