import { describe, expect, it } from 'vitest';
import { capRecords } from '../../src/core/cap.js';

function sortedDistinctIn(a: Uint32Array, n: number): boolean {
  for (let i = 0; i < a.length; i++) {
    const v = a[i] as number;
    if (v >= n) return false;
    if (i > 0 && v <= (a[i - 1] as number)) return false;
  }
  return true;
}

describe('capRecords', () => {
  it('keeps every record in order when there is no cap', () => {
    expect(Array.from(capRecords(5, null, 42, 'a.jsonl'))).toEqual([0, 1, 2, 3, 4]);
    expect(capRecords(0, null, 42, 'a.jsonl').length).toBe(0);
  });

  it('keeps every record when the file is at or below the cap', () => {
    expect(Array.from(capRecords(5, 5, 42, 'a.jsonl'))).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(capRecords(3, 10, 42, 'a.jsonl'))).toEqual([0, 1, 2]);
  });

  it('keeps exactly N distinct records in file order when the file is larger', () => {
    const kept = capRecords(1000, 37, 42, 'big.jsonl');
    expect(kept.length).toBe(37);
    expect(sortedDistinctIn(kept, 1000)).toBe(true);
  });

  it('is the same for the same seed and file id', () => {
    expect(Array.from(capRecords(500, 20, 7, 'd/x.jsonl'))).toEqual(Array.from(capRecords(500, 20, 7, 'd/x.jsonl')));
  });

  // Upstream fault 6: one shared stream in listing order made a file's subset depend on the others.
  it("keeps a file's subset whatever other files are capped with it and in whatever order", () => {
    const files: [string, number][] = [
      ['data/a.jsonl', 300],
      ['data/b.jsonl', 800],
      ['data/c.jsonl', 120],
      ['new/d.jsonl', 1000],
    ];
    const capAll = (list: [string, number][]): Map<string, number[]> =>
      new Map(list.map(([id, n]) => [id, Array.from(capRecords(n, 50, 42, id))]));

    const alone = Array.from(capRecords(800, 50, 42, 'data/b.jsonl'));
    const inOrder = capAll(files.slice(0, 3));
    const reversed = capAll([...files].reverse());
    const withMore = capAll([files[3] as [string, number], ...files]);
    expect(inOrder.get('data/b.jsonl')).toEqual(alone);
    expect(reversed.get('data/b.jsonl')).toEqual(alone);
    expect(withMore.get('data/b.jsonl')).toEqual(alone);
    for (const [id] of files.slice(0, 3)) expect(reversed.get(id)).toEqual(inOrder.get(id));
  });

  it('draws a different subset with another seed', () => {
    const a = Array.from(capRecords(10_000, 10, 1, 'x.jsonl'));
    const b = Array.from(capRecords(10_000, 10, 2, 'x.jsonl'));
    expect(a).not.toEqual(b);
  });

  it('draws different subsets for different files of the same size', () => {
    const a = Array.from(capRecords(10_000, 10, 1, 'x.jsonl'));
    const b = Array.from(capRecords(10_000, 10, 1, 'y.jsonl'));
    expect(a).not.toEqual(b);
  });

  it('does not just keep the first N records', () => {
    const kept = Array.from(capRecords(1000, 10, 42, 'x.jsonl'));
    expect(kept).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(kept.some((v) => v >= 100)).toBe(true);
  });
});
