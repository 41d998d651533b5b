import { describe, expect, it } from 'vitest';
import { assertSomeBatches, countGroup, formatTable, planEpoch, type PlanGroup } from '../../src/core/plan.js';
import { SamebatchError } from '../../src/errors.js';
import type { EpochPlan } from '../../src/types.js';

const g = (id: string, size: number, batchSize: number): PlanGroup => ({ id, size, batchSize });

function caught(fn: () => unknown): SamebatchError {
  try {
    fn();
  } catch (e) {
    if (e instanceof SamebatchError) return e;
    throw e;
  }
  throw new Error('expected a SamebatchError');
}

/** The batches of one group, as lists of examples, in step order. */
function batchesOf(plan: EpochPlan, group: number): number[][] {
  return plan.batches.filter((b) => b.group === group).map((b) => Array.from(b.examples));
}

function asPlain(plan: EpochPlan): unknown {
  return { epoch: plan.epoch, tails: plan.tails, batches: plan.batches.map((b) => [b.group, Array.from(b.examples)]) };
}

describe('countGroup', () => {
  it('cuts a group into whole global batches and a tail', () => {
    expect(countGroup(g('a', 10, 3), 1)).toEqual({ globalBatchSize: 3, batchesPerEpoch: 3, tailPerEpoch: 1 });
    expect(countGroup(g('a', 10, 3), 2)).toEqual({ globalBatchSize: 6, batchesPerEpoch: 1, tailPerEpoch: 4 });
    expect(countGroup(g('a', 12, 2), 3)).toEqual({ globalBatchSize: 6, batchesPerEpoch: 2, tailPerEpoch: 0 });
    expect(countGroup(g('a', 100, 8), 4)).toEqual({ globalBatchSize: 32, batchesPerEpoch: 3, tailPerEpoch: 4 });
  });

  it('gives no batch to a group smaller than one global batch', () => {
    expect(countGroup(g('a', 5, 3), 2)).toEqual({ globalBatchSize: 6, batchesPerEpoch: 0, tailPerEpoch: 5 });
    expect(countGroup(g('a', 0, 3), 1)).toEqual({ globalBatchSize: 3, batchesPerEpoch: 0, tailPerEpoch: 0 });
  });
});

describe('planEpoch', () => {
  const groups = [g('nq', 23, 4), g('sts', 10, 2), g('tiny', 3, 4), g('msmarco', 40, 4)];
  const worldSize = 2;
  const plan = planEpoch(groups, worldSize, 42, 0);

  it('records its epoch', () => {
    expect(plan.epoch).toBe(0);
    expect(planEpoch(groups, worldSize, 42, 3).epoch).toBe(3);
  });

  it('makes floor(size / global batch) batches per group', () => {
    // nq: 23 / 8 → 2, sts: 10 / 4 → 2, tiny: 3 / 8 → 0, msmarco: 40 / 8 → 5
    expect(plan.batches).toHaveLength(9);
    expect([0, 1, 2, 3].map((i) => batchesOf(plan, i).length)).toEqual([2, 2, 0, 5]);
  });

  it('fills every batch with exactly batch size × world size examples of its group', () => {
    for (const b of plan.batches) {
      const grp = groups[b.group] as PlanGroup;
      expect(b.examples.length).toBe(grp.batchSize * worldSize);
      for (const x of b.examples) {
        expect(x).toBeGreaterThanOrEqual(0);
        expect(x).toBeLessThan(grp.size);
      }
    }
  });

  it('counts the tail of every group: size mod global batch', () => {
    expect(plan.tails).toEqual([23 % 8, 10 % 4, 3, 40 % 8]);
  });

  it('uses no example twice in one epoch', () => {
    for (let i = 0; i < groups.length; i++) {
      const all = batchesOf(plan, i).flat();
      expect(new Set(all).size).toBe(all.length);
    }
  });

  it('uses every example of a group without a tail exactly once', () => {
    const all = batchesOf(plan, 3).flat().sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  it('gives the same plan for the same inputs', () => {
    expect(asPlain(planEpoch(groups, worldSize, 42, 0))).toEqual(asPlain(plan));
  });

  it('gives a different order in another epoch and with another seed', () => {
    expect(asPlain(planEpoch(groups, worldSize, 42, 1))).not.toEqual(asPlain(plan));
    expect(asPlain(planEpoch(groups, worldSize, 43, 0))).not.toEqual(asPlain(plan));
  });

  it('leaves a different tail out in another epoch', () => {
    const left = (p: EpochPlan): number[] => {
      const used = new Set(batchesOf(p, 0).flat());
      return Array.from({ length: 23 }, (_, i) => i).filter((i) => !used.has(i));
    };
    const tails = [0, 1, 2, 3, 4].map((e) => left(planEpoch(groups, worldSize, 42, e)).join(','));
    for (const t of tails) expect(t.split(',')).toHaveLength(7);
    expect(new Set(tails).size).toBeGreaterThan(1);
  });

  it('interleaves groups in the step order rather than writing them one after the other', () => {
    const big = [g('a', 400, 1), g('b', 400, 1)];
    const order = planEpoch(big, 1, 42, 0).batches.map((b) => b.group);
    const firstHalf = order.slice(0, 400);
    expect(firstHalf.filter((x) => x === 0).length).toBeGreaterThan(100);
    expect(firstHalf.filter((x) => x === 1).length).toBeGreaterThan(100);
  });

  it('shuffles the examples within a group', () => {
    const p = planEpoch([g('a', 200, 200)], 1, 42, 0);
    const only = Array.from(p.batches[0]?.examples ?? []);
    expect(only).toHaveLength(200);
    expect(only).not.toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  // Per-group streams are keyed by group id: adding a dataset does not reshuffle the others.
  it("keeps each group's batches when another group is added or the groups are reordered", () => {
    const a = g('alpha', 30, 3);
    const b = g('beta', 17, 2);
    const alone = planEpoch([a], 1, 7, 2);
    const withNew = planEpoch([g('new', 50, 5), b, a], 1, 7, 2);
    const sortRows = (rows: number[][]): string[] => rows.map((r) => r.join(',')).sort();
    expect(sortRows(batchesOf(withNew, 2))).toEqual(sortRows(batchesOf(alone, 0)));
    // and the tail left out of alpha is the same examples
    const used = (p: EpochPlan, gi: number): number[] => batchesOf(p, gi).flat().sort((x, y) => x - y);
    expect(used(withNew, 2)).toEqual(used(alone, 0));
    // beta likewise, against a plan with beta first
    const betaFirst = planEpoch([b, a], 1, 7, 2);
    expect(sortRows(batchesOf(withNew, 1))).toEqual(sortRows(batchesOf(betaFirst, 0)));
  });

  it('handles an empty list of groups', () => {
    expect(planEpoch([], 1, 42, 0)).toEqual({ epoch: 0, batches: [], tails: [] });
  });

  it('handles a group of size 0', () => {
    const p = planEpoch([g('empty', 0, 2), g('a', 4, 2)], 1, 1, 0);
    expect(p.tails).toEqual([0, 0]);
    expect(p.batches.every((b) => b.group === 1)).toBe(true);
    expect(p.batches).toHaveLength(2);
  });
});

describe('assertSomeBatches', () => {
  it('passes when at least one group fills a global batch', () => {
    expect(() => assertSomeBatches([g('small', 3, 4), g('ok', 8, 4)], 2)).not.toThrow();
    expect(() => assertSomeBatches([g('exact', 4, 4)], 1)).not.toThrow();
  });

  it('fails with E_NO_BATCHES and a table of each group, its size and the global batch it needs', () => {
    const e = caught(() => assertSomeBatches([g('data/nq.jsonl', 5, 4), g('data/<small>', 7, 2)], 4));
    expect(e.code).toBe('E_NO_BATCHES');
    expect(e.exitCode).toBe(1);
    expect(e.message).toContain('world-size 4');
    const detail = e.detail ?? '';
    const lines = detail.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/group/);
    expect(lines[1]).toContain('data/nq.jsonl');
    expect(lines[1]).toMatch(/\b5\b/);
    expect(lines[1]).toMatch(/\b16\b/);
    expect(lines[2]).toContain('data/<small>');
    expect(lines[2]).toMatch(/\b7\b/);
    expect(lines[2]).toMatch(/\b8\b/);
  });

  it('says that no group is left when there is none', () => {
    const e = caught(() => assertSomeBatches([], 1));
    expect(e.code).toBe('E_NO_BATCHES');
    expect(e.detail).toMatch(/no group/);
  });
});

describe('formatTable', () => {
  it('aligns columns and trims trailing spaces', () => {
    expect(formatTable(['a', 'bb'], [['xxx', 'y'], ['z', 'w']])).toBe('a    bb\nxxx  y\nz    w');
  });
});
