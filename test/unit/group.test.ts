import { describe, expect, it } from 'vitest';
import { datasetBatchSize, exampleLocator, groupDatasets, type GroupingRules } from '../../src/core/group.js';
import { SamebatchError } from '../../src/errors.js';
import type { Group } from '../../src/types.js';
import { dirFile, fileArg, indexed } from './builders.js';

const rules = (r: Partial<GroupingRules> = {}): GroupingRules => ({ batchSize: 8, smallThreshold: 0, dropThreshold: 0, ...r });

function ids(groups: readonly Group[]): string[] {
  return groups.map((g) => g.id);
}

function memberIndices(g: Group): number[] {
  return g.members.map((m) => m.fileIndex);
}

function caught(fn: () => unknown): SamebatchError {
  try {
    fn();
  } catch (e) {
    if (e instanceof SamebatchError) return e;
    throw e;
  }
  throw new Error('expected a SamebatchError');
}

describe('datasetBatchSize', () => {
  const file = fileArg('sts.jsonl', 0).file;

  it('takes the default when there is no batch_size field and no symmetric type', () => {
    expect(datasetBatchSize({ file, type: null, batchSizeField: null }, 8)).toBe(8);
    expect(datasetBatchSize({ file, type: 'normal', batchSizeField: null }, 8)).toBe(8);
    expect(datasetBatchSize({ file, type: 'only_1neg', batchSizeField: null }, 5)).toBe(5);
  });

  it('halves the default for a type containing "symmetric", rounding down', () => {
    expect(datasetBatchSize({ file, type: 'symmetric_sts', batchSizeField: null }, 8)).toBe(4);
    expect(datasetBatchSize({ file, type: 'symmetric_class', batchSizeField: null }, 7)).toBe(3);
    expect(datasetBatchSize({ file, type: 'symmetric_clustering', batchSizeField: null }, 3)).toBe(1);
    expect(datasetBatchSize({ file, type: 'symmetric_sts', batchSizeField: null }, 2)).toBe(1);
  });

  it('lets the batch_size field override, even for symmetric types', () => {
    expect(datasetBatchSize({ file, type: null, batchSizeField: 3 }, 8)).toBe(3);
    expect(datasetBatchSize({ file, type: 'symmetric_sts', batchSizeField: 6 }, 8)).toBe(6);
    expect(datasetBatchSize({ file, type: 'symmetric_sts', batchSizeField: 2 }, 1)).toBe(2);
  });

  // Upstream fault 8: --batch-size 1 made symmetric datasets' batch size 0 and the run crashed.
  it('refuses a batch size of 0 with E_BATCH_SIZE_ZERO naming the file', () => {
    const e = caught(() => datasetBatchSize({ file, type: 'symmetric_sts', batchSizeField: null }, 1));
    expect(e.code).toBe('E_BATCH_SIZE_ZERO');
    expect(e.exitCode).toBe(1);
    expect(e.message).toContain('in/sts.jsonl');
    expect(e.location?.file).toBe('in/sts.jsonl');
  });
});

describe('groupDatasets: file arguments', () => {
  it('makes each file argument a group of its own, id = file id', () => {
    const g = groupDatasets(indexed([fileArg('a.jsonl', 0, { size: 5 }), fileArg('b.jsonl', 1, { size: 9 })]), rules());
    expect(ids(g.groups)).toEqual(['a.jsonl', 'b.jsonl']);
    expect(g.groups.map((x) => x.size)).toEqual([5, 9]);
    expect(g.groups.every((x) => !x.merged)).toBe(true);
    expect(g.skipped).toEqual([]);
    expect(g.dropped).toEqual([]);
  });

  // Upstream fault 4: FlagEmbedding drops these without a word.
  it('skips a file argument below --small-threshold, with the reason', () => {
    const g = groupDatasets(
      indexed([fileArg('tiny.jsonl', 0, { size: 5 }), fileArg('ok.jsonl', 1, { size: 10 })]),
      rules({ smallThreshold: 10 }),
    );
    expect(ids(g.groups)).toEqual(['ok.jsonl']);
    expect(g.skipped).toHaveLength(1);
    const s = g.skipped[0];
    expect(s?.path).toBe('in/tiny.jsonl');
    expect(s?.records).toBe(5);
    expect(s?.reason).toMatch(/small-threshold/);
    expect(s?.reason).toContain('5');
    expect(s?.reason).toContain('10');
  });

  it('keeps a file argument exactly at --small-threshold', () => {
    const g = groupDatasets(indexed([fileArg('a.jsonl', 0, { size: 10 })]), rules({ smallThreshold: 10 }));
    expect(ids(g.groups)).toEqual(['a.jsonl']);
  });

  // Upstream fault 9: an empty file crashed the loader.
  it('skips an empty file argument, with the reason', () => {
    const g = groupDatasets(indexed([fileArg('empty.jsonl', 0, { size: 0 }), fileArg('a.jsonl', 1, { size: 3 })]), rules());
    expect(ids(g.groups)).toEqual(['a.jsonl']);
    expect(g.skipped).toEqual([{ path: 'in/empty.jsonl', records: 0, reason: expect.stringMatching(/empty/) }]);
  });

  it('never merges small file arguments with each other', () => {
    const g = groupDatasets(
      indexed([fileArg('a.jsonl', 0, { size: 3 }), fileArg('b.jsonl', 1, { size: 4 })]),
      rules({ smallThreshold: 10 }),
    );
    expect(g.groups).toEqual([]);
    expect(g.skipped.map((s) => s.path)).toEqual(['in/a.jsonl', 'in/b.jsonl']);
    expect(g.dropped).toEqual([]);
  });

  it('carries the file flag, type and batch size into its group', () => {
    const g = groupDatasets(
      indexed([fileArg('nli_no_in_batch_neg.jsonl', 0, { size: 4, noInBatchNeg: true, type: 'symmetric_sts' })]),
      rules({ batchSize: 6 }),
    );
    expect(g.groups[0]).toMatchObject({ id: 'nli_no_in_batch_neg.jsonl', noInBatchNeg: true, type: 'symmetric_sts', batchSize: 3, merged: false, size: 4 });
  });

  it('uses the batch_size field over the default', () => {
    const g = groupDatasets(indexed([fileArg('a.jsonl', 0, { size: 4, batchSizeField: 2 })]), rules({ batchSize: 16 }));
    expect(g.groups[0]?.batchSize).toBe(2);
  });

  it('keeps the member reference: file index and kept records', () => {
    const g = groupDatasets(indexed([fileArg('a.jsonl', 0, { kept: [1, 4, 7] })]), rules());
    expect(g.groups[0]?.members).toHaveLength(1);
    expect(g.groups[0]?.members[0]?.fileIndex).toBe(0);
    expect(Array.from(g.groups[0]?.members[0]?.kept ?? [])).toEqual([1, 4, 7]);
    expect(g.groups[0]?.size).toBe(3);
  });
});

describe('groupDatasets: directory arguments', () => {
  it('gives large files their own groups and merges the small ones after them', () => {
    const g = groupDatasets(
      indexed([
        dirFile('ret', 'a.jsonl', 0, { size: 20 }),
        dirFile('ret', 'b.jsonl', 0, { size: 3 }),
        dirFile('ret', 'c.jsonl', 0, { size: 4 }),
        dirFile('ret', 'd.jsonl', 0, { size: 30 }),
      ]),
      rules({ smallThreshold: 10 }),
    );
    expect(g.groups.map((x) => [x.size, x.merged])).toEqual([
      [20, false],
      [30, false],
      [7, true],
    ]);
    expect(ids(g.groups).slice(0, 2)).toEqual(['ret/a.jsonl', 'ret/d.jsonl']);
    const merged = g.groups[2] as Group;
    expect(memberIndices(merged)).toEqual([1, 2]);
    expect(merged.id).toContain('ret');
    expect(g.skipped).toEqual([]);
    expect(g.dropped).toEqual([]);
  });

  it('merges a directory of only small files into one group', () => {
    const g = groupDatasets(
      indexed([dirFile('d', 'x.jsonl', 0, { size: 2 }), dirFile('d', 'y.jsonl', 0, { size: 2 }), dirFile('d', 'z.jsonl', 0, { size: 2 })]),
      rules({ smallThreshold: 5 }),
    );
    expect(g.groups).toHaveLength(1);
    expect(g.groups[0]).toMatchObject({ size: 6, merged: true, type: null });
    expect(memberIndices(g.groups[0] as Group)).toEqual([0, 1, 2]);
  });

  it('keeps a directory file exactly at --small-threshold as its own group', () => {
    const g = groupDatasets(indexed([dirFile('d', 'x.jsonl', 0, { size: 5 })]), rules({ smallThreshold: 5 }));
    expect(g.groups[0]).toMatchObject({ id: 'd/x.jsonl', merged: false });
  });

  it('drops a merged group below --drop-threshold, naming its members and the reason', () => {
    const g = groupDatasets(
      indexed([dirFile('d', 'big.jsonl', 0, { size: 50 }), dirFile('d', 'x.jsonl', 0, { size: 3 }), dirFile('d', 'y.jsonl', 0, { size: 4 })]),
      rules({ smallThreshold: 10, dropThreshold: 8 }),
    );
    expect(ids(g.groups)).toEqual(['d/big.jsonl']);
    expect(g.dropped).toHaveLength(1);
    const d = g.dropped[0];
    expect(d?.members).toEqual(['in/d/x.jsonl', 'in/d/y.jsonl']);
    expect(d?.records).toBe(7);
    expect(d?.reason).toMatch(/drop-threshold/);
    expect(d?.reason).toContain('7');
    expect(d?.reason).toContain('8');
  });

  it('keeps a merged group exactly at --drop-threshold', () => {
    const g = groupDatasets(
      indexed([dirFile('d', 'x.jsonl', 0, { size: 3 }), dirFile('d', 'y.jsonl', 0, { size: 5 })]),
      rules({ smallThreshold: 10, dropThreshold: 8 }),
    );
    expect(g.groups).toHaveLength(1);
    expect(g.dropped).toEqual([]);
  });

  it('skips an empty file inside a directory instead of merging it', () => {
    const g = groupDatasets(
      indexed([dirFile('d', 'empty.jsonl', 0, { size: 0 }), dirFile('d', 'x.jsonl', 0, { size: 3 })]),
      rules({ smallThreshold: 10 }),
    );
    expect(g.skipped.map((s) => [s.path, s.records])).toEqual([['in/d/empty.jsonl', 0]]);
    expect(g.groups).toHaveLength(1);
    expect(memberIndices(g.groups[0] as Group)).toEqual([1]);
  });

  // Upstream fault 2: small files of different types merged into one group crashed training.
  it('merges small files per type, and checks each merged group against --drop-threshold on its own', () => {
    const g = groupDatasets(
      indexed([
        dirFile('d', 'a.jsonl', 0, { size: 3, type: 'normal' }),
        dirFile('d', 'b.jsonl', 0, { size: 6, type: 'only_1neg' }),
        dirFile('d', 'c.jsonl', 0, { size: 4, type: 'normal' }),
        dirFile('d', 'e.jsonl', 0, { size: 5, type: 'only_1neg' }),
      ]),
      rules({ smallThreshold: 10, dropThreshold: 10 }),
    );
    // normal: 3 + 4 = 7 < 10 → dropped; only_1neg: 6 + 5 = 11 → kept
    expect(g.groups).toHaveLength(1);
    expect(g.groups[0]).toMatchObject({ type: 'only_1neg', size: 11, merged: true });
    expect(memberIndices(g.groups[0] as Group)).toEqual([1, 3]);
    expect(g.dropped).toHaveLength(1);
    expect(g.dropped[0]?.members).toEqual(['in/d/a.jsonl', 'in/d/c.jsonl']);
    expect(g.dropped[0]?.records).toBe(7);
  });

  it('gives two merged groups with distinct ids when both types are big enough', () => {
    const g = groupDatasets(
      indexed([
        dirFile('d', 'a.jsonl', 0, { size: 3, type: 'normal' }),
        dirFile('d', 'b.jsonl', 0, { size: 6, type: 'only_1neg' }),
        dirFile('d', 'c.jsonl', 0, { size: 4 }),
      ]),
      rules({ smallThreshold: 10 }),
    );
    expect(g.groups).toHaveLength(3);
    expect(new Set(ids(g.groups)).size).toBe(3);
    expect(new Set(g.groups.map((x) => x.type))).toEqual(new Set(['normal', 'only_1neg', null]));
    for (const grp of g.groups) expect(grp.merged).toBe(true);
  });

  it('orders merged groups of several types the same whatever file comes first', () => {
    const a = groupDatasets(
      indexed([dirFile('d', 'a.jsonl', 0, { size: 3, type: 'x' }), dirFile('d', 'b.jsonl', 0, { size: 3, type: 'w' })]),
      rules({ smallThreshold: 10 }),
    );
    const b = groupDatasets(
      indexed([dirFile('d', 'a.jsonl', 0, { size: 3, type: 'w' }), dirFile('d', 'b.jsonl', 0, { size: 3, type: 'x' })]),
      rules({ smallThreshold: 10 }),
    );
    expect(a.groups.map((x) => x.type)).toEqual(b.groups.map((x) => x.type));
  });

  it('gives a merged group the smallest batch size of its members', () => {
    const g = groupDatasets(
      indexed([
        dirFile('d', 'a.jsonl', 0, { size: 3, batchSizeField: 6 }),
        dirFile('d', 'b.jsonl', 0, { size: 3 }),
        dirFile('d', 'c.jsonl', 0, { size: 3, batchSizeField: 5 }),
      ]),
      rules({ smallThreshold: 10, batchSize: 8 }),
    );
    expect(g.groups[0]?.batchSize).toBe(5);
  });

  it('takes a member with no field at the default when that is the smallest', () => {
    const g = groupDatasets(
      indexed([dirFile('d', 'a.jsonl', 0, { size: 3, batchSizeField: 12 }), dirFile('d', 'b.jsonl', 0, { size: 3 })]),
      rules({ smallThreshold: 10, batchSize: 8 }),
    );
    expect(g.groups[0]?.batchSize).toBe(8);
  });

  it('halves the default for symmetric members of a merged group', () => {
    const g = groupDatasets(
      indexed([
        dirFile('d', 'a.jsonl', 0, { size: 3, type: 'symmetric_sts' }),
        dirFile('d', 'b.jsonl', 0, { size: 3, type: 'symmetric_sts', batchSizeField: 6 }),
      ]),
      rules({ smallThreshold: 10, batchSize: 10 }),
    );
    expect(g.groups[0]?.batchSize).toBe(5);
  });

  it('carries the directory no_in_batch_neg flag to own and merged groups', () => {
    const g = groupDatasets(
      indexed([
        dirFile('cls-no_in_batch_neg', 'a.jsonl', 0, { size: 20, noInBatchNeg: true }),
        dirFile('cls-no_in_batch_neg', 'b.jsonl', 0, { size: 3, noInBatchNeg: true }),
        dirFile('cls-no_in_batch_neg', 'c.jsonl', 0, { size: 3, noInBatchNeg: true }),
        fileArg('plain.jsonl', 1, { size: 20 }),
      ]),
      rules({ smallThreshold: 10 }),
    );
    expect(g.groups.map((x) => [x.merged, x.noInBatchNeg])).toEqual([
      [false, true],
      [true, true],
      [false, false],
    ]);
  });

  it('merges only within one directory: each directory (and each argument) merges its own small files', () => {
    const g = groupDatasets(
      indexed([
        dirFile('r', 'a.jsonl', 0, { size: 3 }),
        dirFile('r', 'b.jsonl', 0, { size: 3 }),
        dirFile('r/sub', 'c.jsonl', 0, { size: 3 }),
        dirFile('r/sub', 'd.jsonl', 0, { size: 3 }),
        dirFile('s', 'e.jsonl', 1, { size: 3 }),
      ]),
      rules({ smallThreshold: 10 }),
    );
    expect(g.groups.map(memberIndices)).toEqual([[0, 1], [2, 3], [4]]);
    expect(g.groups.every((x) => x.merged)).toBe(true);
    expect(new Set(ids(g.groups)).size).toBe(3);
  });

  it('keeps two arguments naming directories with the same id apart', () => {
    const g = groupDatasets(
      indexed([dirFile('d', 'a.jsonl', 0, { size: 3 }), dirFile('d', 'b.jsonl', 1, { size: 3 })]),
      rules({ smallThreshold: 10 }),
    );
    expect(g.groups.map(memberIndices)).toEqual([[0], [1]]);
  });

  it('puts groups in argument order: own groups in file order, merged groups right after their directory', () => {
    const g = groupDatasets(
      indexed([
        fileArg('first.jsonl', 0, { size: 12 }),
        dirFile('d1', 'a.jsonl', 1, { size: 2 }),
        dirFile('d1', 'b.jsonl', 1, { size: 15 }),
        dirFile('d1', 'c.jsonl', 1, { size: 2 }),
        dirFile('d1', 'e.jsonl', 1, { size: 11 }),
        dirFile('d2', 'f.jsonl', 2, { size: 3 }),
        dirFile('d2', 'g.jsonl', 2, { size: 13 }),
        fileArg('last.jsonl', 3, { size: 14 }),
      ]),
      rules({ smallThreshold: 10 }),
    );
    expect(g.groups.map(memberIndices)).toEqual([[0], [2], [4], [1, 3], [6], [5], [7]]);
  });

  it('makes every group with smallThreshold 0 its own (nothing is small)', () => {
    const g = groupDatasets(
      indexed([dirFile('d', 'a.jsonl', 0, { size: 1 }), dirFile('d', 'b.jsonl', 0, { size: 2 })]),
      rules({ smallThreshold: 0 }),
    );
    expect(g.groups.map((x) => x.merged)).toEqual([false, false]);
  });
});

describe('groupDatasets: batch size 0 (upstream fault 8)', () => {
  it('fails naming the file when a symmetric file argument meets --batch-size 1', () => {
    const e = caught(() => groupDatasets(indexed([fileArg('sts.jsonl', 0, { size: 10, type: 'symmetric_sts' })]), rules({ batchSize: 1 })));
    expect(e.code).toBe('E_BATCH_SIZE_ZERO');
    expect(e.message).toContain('in/sts.jsonl');
  });

  it('fails naming the file when a symmetric member of a merged group meets --batch-size 1', () => {
    const e = caught(() =>
      groupDatasets(
        indexed([dirFile('d', 'a.jsonl', 0, { size: 2, type: 'symmetric_sts' }), dirFile('d', 'b.jsonl', 0, { size: 2, type: 'symmetric_sts' })]),
        rules({ batchSize: 1, smallThreshold: 10 }),
      ),
    );
    expect(e.code).toBe('E_BATCH_SIZE_ZERO');
    expect(e.message).toContain('in/d/a.jsonl');
  });

  it('is fine with --batch-size 1 when the symmetric dataset has its own batch_size', () => {
    const g = groupDatasets(indexed([fileArg('sts.jsonl', 0, { size: 10, type: 'symmetric_sts', batchSizeField: 2 })]), rules({ batchSize: 1 }));
    expect(g.groups[0]?.batchSize).toBe(2);
  });
});

describe('exampleLocator', () => {
  it('maps group-local indices across members to (file index, record index)', () => {
    const locate = exampleLocator({
      members: [
        { fileIndex: 3, kept: Uint32Array.from([0, 2, 4]) },
        { fileIndex: 5, kept: Uint32Array.from([1]) },
        { fileIndex: 6, kept: Uint32Array.from([7, 8]) },
      ],
    });
    expect([0, 1, 2, 3, 4, 5].map(locate)).toEqual([
      [3, 0],
      [3, 2],
      [3, 4],
      [5, 1],
      [6, 7],
      [6, 8],
    ]);
  });

  it('works for a single member', () => {
    const locate = exampleLocator({ members: [{ fileIndex: 0, kept: Uint32Array.from([9, 10, 11]) }] });
    expect(locate(0)).toEqual([0, 9]);
    expect(locate(2)).toEqual([0, 11]);
  });

  it('passes over empty members', () => {
    const locate = exampleLocator({
      members: [
        { fileIndex: 0, kept: Uint32Array.from([]) },
        { fileIndex: 1, kept: Uint32Array.from([5, 6]) },
        { fileIndex: 2, kept: Uint32Array.from([]) },
        { fileIndex: 3, kept: Uint32Array.from([0]) },
      ],
    });
    expect([0, 1, 2].map(locate)).toEqual([
      [1, 5],
      [1, 6],
      [3, 0],
    ]);
  });

  it('maps a merged group from groupDatasets back to its members', () => {
    const g = groupDatasets(
      indexed([dirFile('d', 'a.jsonl', 0, { kept: [10, 20] }), dirFile('d', 'b.jsonl', 0, { kept: [30, 40, 50] })]),
      rules({ smallThreshold: 100 }),
    );
    const locate = exampleLocator(g.groups[0] as Group);
    expect(Array.from({ length: 5 }, (_, i) => locate(i))).toEqual([
      [0, 10],
      [0, 20],
      [1, 30],
      [1, 40],
      [1, 50],
    ]);
  });
});
