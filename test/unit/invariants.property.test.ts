/**
 * Property tests of the core invariants: every batch is one group and exactly one global batch,
 * no example twice per epoch, examples + tails = group sizes, same seed → same plan; grouping
 * accounts for every dataset exactly once and never mixes types.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { capRecords } from '../../src/core/cap.js';
import { groupDatasets, type DatasetInput } from '../../src/core/group.js';
import { SamebatchError } from '../../src/errors.js';
import { countGroup, planEpoch, type PlanGroup } from '../../src/core/plan.js';
import { sampleSorted, shuffleInPlace, identity, streamFor } from '../../src/core/rng.js';
import type { EpochPlan } from '../../src/types.js';
import { dirFile, fileArg, indexed } from './builders.js';

const NUM_RUNS = 150;

const planGroupsArb = fc
  .uniqueArray(
    fc.record({
      id: fc.string({ minLength: 1, maxLength: 6 }),
      size: fc.integer({ min: 0, max: 200 }),
      batchSize: fc.integer({ min: 1, max: 8 }),
    }),
    { minLength: 0, maxLength: 6, selector: (g) => g.id },
  );

const planCaseArb = fc.record({
  groups: planGroupsArb,
  worldSize: fc.integer({ min: 1, max: 4 }),
  seed: fc.integer({ min: -1_000_000, max: 1_000_000 }),
  epoch: fc.integer({ min: 0, max: 50 }),
});

function plainPlan(p: EpochPlan): unknown {
  return { epoch: p.epoch, tails: p.tails, batches: p.batches.map((b) => [b.group, Array.from(b.examples)]) };
}

/** How many times each group-local example of each group is used. */
function usage(groups: readonly PlanGroup[], p: EpochPlan): number[][] {
  const counts = groups.map((g) => new Array<number>(g.size).fill(0));
  for (const b of p.batches) {
    const c = counts[b.group] as number[];
    for (const x of b.examples) c[x] = (c[x] ?? 0) + 1;
  }
  return counts;
}

describe('planEpoch invariants (property)', () => {
  it('every batch is exactly one global batch of one group, with examples of that group', () => {
    fc.assert(
      fc.property(planCaseArb, ({ groups, worldSize, seed, epoch }) => {
        const p = planEpoch(groups, worldSize, seed, epoch);
        for (const b of p.batches) {
          const g = groups[b.group];
          expect(g).toBeDefined();
          if (!g) return;
          expect(b.examples.length).toBe(g.batchSize * worldSize);
          for (const x of b.examples) expect(x < g.size && x >= 0).toBe(true);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('no example appears twice in an epoch', () => {
    fc.assert(
      fc.property(planCaseArb, ({ groups, worldSize, seed, epoch }) => {
        const p = planEpoch(groups, worldSize, seed, epoch);
        for (const c of usage(groups, p)) for (const n of c) expect(n).toBeLessThanOrEqual(1);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('examples written + tails left out = group sizes, and the tail is smaller than one global batch', () => {
    fc.assert(
      fc.property(planCaseArb, ({ groups, worldSize, seed, epoch }) => {
        const p = planEpoch(groups, worldSize, seed, epoch);
        expect(p.tails).toHaveLength(groups.length);
        const written = groups.map(() => 0);
        for (const b of p.batches) written[b.group] = (written[b.group] ?? 0) + b.examples.length;
        groups.forEach((g, i) => {
          const tail = p.tails[i] as number;
          expect((written[i] as number) + tail).toBe(g.size);
          expect(tail).toBeGreaterThanOrEqual(0);
          expect(tail).toBeLessThan(g.batchSize * worldSize);
          expect(tail).toBe(g.size % (g.batchSize * worldSize));
          expect(countGroup(g, worldSize).tailPerEpoch).toBe(tail);
        });
        const total = groups.reduce((n, g) => n + Math.floor(g.size / (g.batchSize * worldSize)), 0);
        expect(p.batches).toHaveLength(total);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('the same seed and epoch give an identical plan', () => {
    fc.assert(
      fc.property(planCaseArb, ({ groups, worldSize, seed, epoch }) => {
        expect(plainPlan(planEpoch(groups, worldSize, seed, epoch))).toEqual(plainPlan(planEpoch(groups, worldSize, seed, epoch)));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('another seed or epoch uses the same number of examples per group, and the same examples when there are no tails', () => {
    fc.assert(
      fc.property(planCaseArb, fc.integer(), fc.nat(100), ({ groups, worldSize, seed, epoch }, seed2, epoch2) => {
        const a = planEpoch(groups, worldSize, seed, epoch);
        const b = planEpoch(groups, worldSize, seed2, epoch2);
        const ua = usage(groups, a);
        const ub = usage(groups, b);
        groups.forEach((g, i) => {
          const sum = (c: number[] | undefined): number => (c ?? []).reduce((n, x) => n + x, 0);
          expect(sum(ub[i])).toBe(sum(ua[i]));
          if (g.size % (g.batchSize * worldSize) === 0) {
            expect(ub[i]).toEqual(ua[i]);
            expect((ua[i] ?? []).every((n) => n === 1)).toBe(true);
          }
        });
        expect(b.tails).toEqual(a.tails);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("adding a group leaves every other group's batches unchanged", () => {
    fc.assert(
      fc.property(
        planCaseArb,
        fc.record({ size: fc.integer({ min: 0, max: 200 }), batchSize: fc.integer({ min: 1, max: 8 }) }),
        fc.nat(),
        ({ groups, worldSize, seed, epoch }, extra, at) => {
          const added: PlanGroup = { id: '\u0000added', ...extra };
          const pos = groups.length === 0 ? 0 : at % (groups.length + 1);
          const more = [...groups.slice(0, pos), added, ...groups.slice(pos)];
          const a = planEpoch(groups, worldSize, seed, epoch);
          const b = planEpoch(more, worldSize, seed, epoch);
          const rows = (p: EpochPlan, gi: number): string[] =>
            p.batches.filter((x) => x.group === gi).map((x) => Array.from(x.examples).join(',')).sort();
          groups.forEach((_, i) => {
            expect(rows(b, i < pos ? i : i + 1)).toEqual(rows(a, i));
          });
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});

// ---- grouping ----

const typeArb = fc.constantFrom<string | null>(null, 'normal', 'only_1neg', 'symmetric_sts', 'symmetric_class');
const datasetArb = fc.record({
  size: fc.integer({ min: 0, max: 30 }),
  type: typeArb,
  batchSizeField: fc.option(fc.integer({ min: 1, max: 16 }), { nil: null }),
  noInBatchNeg: fc.boolean(),
});

/** A command line: each argument a file or a directory of files (possibly with subdirectories). */
const argsArb = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('file' as const), d: datasetArb }),
    fc.record({
      kind: fc.constant('dir' as const),
      subdirs: fc.array(fc.array(datasetArb, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 3 }),
      noInBatchNeg: fc.boolean(),
    }),
  ),
  { minLength: 0, maxLength: 6 },
);

type Args = typeof argsArb extends fc.Arbitrary<infer T> ? T : never;

function toDatasets(args: Args): DatasetInput[] {
  const list: Omit<DatasetInput, 'fileIndex'>[] = [];
  args.forEach((arg, argIndex) => {
    if (arg.kind === 'file') {
      list.push(fileArg(`f${argIndex}.jsonl`, argIndex, arg.d));
    } else {
      arg.subdirs.forEach((files, s) => {
        const dir = s === 0 ? `dir${argIndex}` : `dir${argIndex}/sub${s}`;
        files.forEach((d, k) => list.push(dirFile(dir, `x${k}.jsonl`, argIndex, { ...d, noInBatchNeg: arg.noInBatchNeg })));
      });
    }
  });
  return indexed(list);
}

const groupingCaseArb = fc.record({
  args: argsArb,
  batchSize: fc.integer({ min: 2, max: 16 }),
  smallThreshold: fc.integer({ min: 0, max: 20 }),
  dropThreshold: fc.integer({ min: 0, max: 40 }),
});

describe('groupDatasets invariants (property)', () => {
  it('accounts for every dataset exactly once: in a group, skipped, or a member of a dropped group', () => {
    fc.assert(
      fc.property(groupingCaseArb, ({ args, ...rules }) => {
        const datasets = toDatasets(args);
        const g = groupDatasets(datasets, rules);
        const seen = new Map<string, number>();
        const see = (path: string): void => void seen.set(path, (seen.get(path) ?? 0) + 1);
        for (const grp of g.groups) for (const m of grp.members) see((datasets[m.fileIndex] as DatasetInput).file.path);
        for (const s of g.skipped) see(s.path);
        for (const d of g.dropped) for (const p of d.members) see(p);
        expect(seen.size).toBe(datasets.length);
        for (const d of datasets) expect(seen.get(d.file.path)).toBe(1);

        const total = datasets.reduce((n, d) => n + d.kept.length, 0);
        const inGroups = g.groups.reduce((n, x) => n + x.size, 0);
        const inSkipped = g.skipped.reduce((n, x) => n + x.records, 0);
        const inDropped = g.dropped.reduce((n, x) => n + x.records, 0);
        expect(inGroups + inSkipped + inDropped).toBe(total);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('no group mixes types, directories or no_in_batch_neg flags; sizes and batch sizes are consistent', () => {
    fc.assert(
      fc.property(groupingCaseArb, ({ args, ...rules }) => {
        const datasets = toDatasets(args);
        const g = groupDatasets(datasets, rules);
        expect(new Set(g.groups.map((x) => x.id)).size).toBe(g.groups.length);
        for (const grp of g.groups) {
          const members = grp.members.map((m) => datasets[m.fileIndex] as DatasetInput);
          expect(members.length).toBeGreaterThan(0);
          for (const d of members) {
            expect(d.type).toBe(grp.type);
            expect(d.file.noInBatchNeg).toBe(grp.noInBatchNeg);
            expect(d.kept.length).toBeGreaterThan(0);
          }
          expect(new Set(members.map((d) => `${d.file.argIndex}:${d.file.dirId}`)).size).toBe(1);
          expect(grp.size).toBe(members.reduce((n, d) => n + d.kept.length, 0));
          expect(grp.batchSize).toBeGreaterThanOrEqual(1);
          if (grp.merged) {
            expect(members.every((d) => !d.file.fromFileArg && d.kept.length < rules.smallThreshold)).toBe(true);
            expect(grp.size).toBeGreaterThanOrEqual(rules.dropThreshold);
          } else {
            expect(members).toHaveLength(1);
            expect(grp.size).toBeGreaterThanOrEqual(rules.smallThreshold);
          }
        }
        for (const d of g.dropped) expect(d.records).toBeLessThan(rules.dropThreshold);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  // Upstream fault 8: --batch-size 1 gave symmetric datasets batch size 0 and crashed mid-run.
  it('with --batch-size 1, fails with E_BATCH_SIZE_ZERO exactly when a grouped symmetric dataset has no batch_size', () => {
    fc.assert(
      fc.property(groupingCaseArb, ({ args, ...rules }) => {
        const datasets = toDatasets(args);
        const shape = groupDatasets(datasets, { ...rules, batchSize: 2 });
        const zero = shape.groups.some((grp) =>
          grp.members.some((m) => {
            const d = datasets[m.fileIndex] as DatasetInput;
            return d.batchSizeField === null && d.type !== null && d.type.includes('symmetric');
          }),
        );
        let error: unknown = null;
        try {
          const g = groupDatasets(datasets, { ...rules, batchSize: 1 });
          for (const grp of g.groups) expect(grp.batchSize).toBeGreaterThanOrEqual(1);
        } catch (e) {
          error = e;
        }
        if (zero) {
          expect(error).toBeInstanceOf(SamebatchError);
          expect((error as SamebatchError).code).toBe('E_BATCH_SIZE_ZERO');
        } else {
          expect(error).toBeNull();
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('groups keep member datasets in discovery order, and groups follow argument order', () => {
    fc.assert(
      fc.property(groupingCaseArb, ({ args, ...rules }) => {
        const datasets = toDatasets(args);
        const g = groupDatasets(datasets, rules);
        let lastArg = -1;
        for (const grp of g.groups) {
          const idx = grp.members.map((m) => m.fileIndex);
          expect(idx).toEqual([...idx].sort((a, b) => a - b));
          const arg = (datasets[idx[0] as number] as DatasetInput).file.argIndex;
          expect(arg).toBeGreaterThanOrEqual(lastArg);
          lastArg = arg;
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

// ---- randomness helpers the invariants rest on ----

describe('rng and cap (property)', () => {
  it('shuffleInPlace is a permutation', () => {
    fc.assert(
      fc.property(fc.nat(300), fc.integer(), fc.string(), (n, seed, key) => {
        const out = Array.from(shuffleInPlace(identity(n), streamFor(seed, key)));
        expect(out.sort((a, b) => a - b)).toEqual(Array.from(identity(n)));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('sampleSorted gives min(k, n) distinct ascending values below n', () => {
    fc.assert(
      fc.property(fc.nat(5000), fc.nat(300), fc.integer(), (n, k, seed) => {
        const s = Array.from(sampleSorted(n, k, streamFor(seed, 's')));
        expect(s).toHaveLength(Math.min(n, k));
        s.forEach((v, i) => {
          expect(v).toBeLessThan(n);
          if (i > 0) expect(v).toBeGreaterThan(s[i - 1] as number);
        });
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("capRecords: a file's subset depends on (seed, file id, size, cap) only", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ id: fc.string({ minLength: 1, maxLength: 8 }), records: fc.nat(400) }), { selector: (f) => f.id, maxLength: 5 }),
        fc.integer({ min: 1, max: 100 }),
        fc.integer(),
        (files, max, seed) => {
          const forward = files.map((f) => Array.from(capRecords(f.records, max, seed, f.id)));
          const backward = [...files].reverse().map((f) => Array.from(capRecords(f.records, max, seed, f.id))).reverse();
          expect(backward).toEqual(forward);
          files.forEach((f, i) => expect(forward[i]).toHaveLength(Math.min(f.records, max)));
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});
