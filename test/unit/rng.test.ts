import { describe, expect, it } from 'vitest';
import { below, identity, sampleSorted, shuffleInPlace, streamFor } from '../../src/core/rng.js';

function draw(rng: () => number, n: number): number[] {
  return Array.from({ length: n }, () => rng());
}

describe('streamFor', () => {
  it('gives the same stream for the same seed and key', () => {
    expect(draw(streamFor(42, 'group', 0, 'a'), 20)).toEqual(draw(streamFor(42, 'group', 0, 'a'), 20));
  });

  it('gives different streams for different seeds, epochs or keys', () => {
    const base = draw(streamFor(42, 'group', 0, 'a'), 8);
    expect(draw(streamFor(43, 'group', 0, 'a'), 8)).not.toEqual(base);
    expect(draw(streamFor(42, 'group', 1, 'a'), 8)).not.toEqual(base);
    expect(draw(streamFor(42, 'group', 0, 'b'), 8)).not.toEqual(base);
    expect(draw(streamFor(42, 'steps', 0, 'a'), 8)).not.toEqual(base);
  });

  it('keeps key parts apart: ("a", "b/c") is not ("a/b", "c")', () => {
    expect(draw(streamFor(1, 'a', 'b/c'), 8)).not.toEqual(draw(streamFor(1, 'a/b', 'c'), 8));
    expect(draw(streamFor(1, 'ab', 'c'), 8)).not.toEqual(draw(streamFor(1, 'a', 'bc'), 8));
  });

  it('does not depend on streams drawn before it (no shared state)', () => {
    const first = draw(streamFor(7, 'x'), 5);
    draw(streamFor(7, 'y'), 1000);
    expect(draw(streamFor(7, 'x'), 5)).toEqual(first);
  });

  it('yields numbers in [0, 1)', () => {
    for (const x of draw(streamFor(3, 'range'), 2000)) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
  });
});

describe('below', () => {
  it('yields integers in [0, n) and reaches every value', () => {
    const rng = streamFor(5, 'below');
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const v = below(rng, 7);
      expect(Number.isInteger(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(7);
      seen.add(v);
    }
    expect(seen.size).toBe(7);
  });
});

describe('identity', () => {
  it('is 0..n-1', () => {
    expect(Array.from(identity(5))).toEqual([0, 1, 2, 3, 4]);
    expect(identity(0).length).toBe(0);
  });
});

describe('shuffleInPlace', () => {
  it('returns the same array, holding a permutation of its items', () => {
    const arr = identity(100);
    const out = shuffleInPlace(arr, streamFor(1, 's'));
    expect(out).toBe(arr);
    expect(Array.from(out).sort((a, b) => a - b)).toEqual(Array.from(identity(100)));
    expect(Array.from(out)).not.toEqual(Array.from(identity(100)));
  });

  it('works on plain arrays of objects and keeps every object', () => {
    const objs = ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id }));
    const copy = [...objs];
    shuffleInPlace(copy, streamFor(2, 's'));
    expect(new Set(copy)).toEqual(new Set(objs));
    expect(copy).toHaveLength(5);
  });

  it('is deterministic for one stream key', () => {
    const a = Array.from(shuffleInPlace(identity(50), streamFor(9, 'k')));
    const b = Array.from(shuffleInPlace(identity(50), streamFor(9, 'k')));
    const c = Array.from(shuffleInPlace(identity(50), streamFor(10, 'k')));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('leaves empty and one-item arrays alone', () => {
    expect(Array.from(shuffleInPlace(identity(0), streamFor(1)))).toEqual([]);
    expect(Array.from(shuffleInPlace(identity(1), streamFor(1)))).toEqual([0]);
  });

  it('reaches every permutation of 3 items', () => {
    const seen = new Set<string>();
    for (let s = 0; s < 200; s++) seen.add(Array.from(shuffleInPlace(identity(3), streamFor(s, 'perm'))).join(','));
    expect(seen.size).toBe(6);
  });
});

describe('sampleSorted', () => {
  it('returns k distinct ascending values in [0, n)', () => {
    for (const [n, k] of [[10, 3], [1000, 17], [5, 4], [1, 0], [100, 99]] as const) {
      const s = Array.from(sampleSorted(n, k, streamFor(11, n, k)));
      expect(s).toHaveLength(k);
      expect(new Set(s).size).toBe(k);
      for (let i = 0; i < s.length; i++) {
        const v = s[i] as number;
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThan(n);
        if (i > 0) expect(v).toBeGreaterThan(s[i - 1] as number);
      }
    }
  });

  it('sorts numerically, not as text', () => {
    // A subset of 0..999 large enough to hold both one- and three-digit values.
    const s = Array.from(sampleSorted(1000, 900, streamFor(1, 'num')));
    expect(s).toEqual([...s].sort((a, b) => a - b));
  });

  it('gives identity when k >= n', () => {
    expect(Array.from(sampleSorted(4, 4, streamFor(1)))).toEqual([0, 1, 2, 3]);
    expect(Array.from(sampleSorted(4, 10, streamFor(1)))).toEqual([0, 1, 2, 3]);
    expect(Array.from(sampleSorted(0, 3, streamFor(1)))).toEqual([]);
  });

  it('gives an empty sample for k = 0', () => {
    expect(sampleSorted(10, 0, streamFor(1)).length).toBe(0);
  });

  it('reaches every 2-subset of 5 with a roughly even spread', () => {
    const counts = new Map<string, number>();
    const runs = 2000;
    for (let s = 0; s < runs; s++) {
      const key = Array.from(sampleSorted(5, 2, streamFor(s, 'spread'))).join(',');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(10);
    // expected 200 each; a biased sampler (e.g. one that never picks the last item) falls far outside
    for (const c of counts.values()) {
      expect(c).toBeGreaterThan(120);
      expect(c).toBeLessThan(280);
    }
  });
});
