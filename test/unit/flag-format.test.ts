import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fillTemplate, flagBatch, groupSizeOf, sampleNegatives, shuffleText, type FlagOptions } from '../../src/core/flag-format.js';
import { streamFor } from '../../src/core/rng.js';

const opts: FlagOptions = {
  seed: 1,
  knowledgeDistillation: false,
  trainGroupSize: 8,
  queryInstruction: null,
  queryInstructionFormat: '{}{}',
  passageInstruction: null,
  passageInstructionFormat: '{}{}',
  shuffleRatio: 0,
};

describe('flag format rules', () => {
  it('groupSizeOf: only_1neg 2; symmetric_class min(negatives + 1, default); the record field; the default', () => {
    expect(groupSizeOf({ query: 'q', pos: ['p'], neg: ['a', 'b', 'c'], type: 'only_1neg', train_group_size: 5 }, opts)).toBe(2);
    expect(groupSizeOf({ query: 'q', pos: ['p'], neg: ['a', 'b'], type: 'symmetric_class' }, opts)).toBe(3);
    expect(groupSizeOf({ query: 'q', pos: ['p'], neg: Array(20).fill('n'), type: 'symmetric_class' }, opts)).toBe(8);
    expect(groupSizeOf({ query: 'q', pos: ['p'], neg: ['a'], train_group_size: 3 }, opts)).toBe(3);
    expect(groupSizeOf({ query: 'q', pos: ['p'], neg: ['a'], type: 'normal' }, opts)).toBe(8);
  });

  it('fillTemplate fills instruction then text; no instruction leaves the text alone', () => {
    expect(fillTemplate('<instruct>{}\n<query>{}', 'Find it', 'cats')).toBe('<instruct>Find it\n<query>cats');
    expect(fillTemplate('{}{}', 'A: ', 'b')).toBe('A: b');
    expect(fillTemplate('{}{}', null, 'b')).toBe('b');
  });

  it('sampleNegatives: distinct when enough; when short, from the indices repeated ceil(k/n) times', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 20 }), fc.integer(), (n, k, seed) => {
        const got = sampleNegatives(n, k, streamFor(seed, 'neg'));
        expect(got).toHaveLength(k);
        expect(got.every((i) => i >= 0 && i < n)).toBe(true);
        if (k <= n) expect(new Set(got).size).toBe(k);
        else {
          // k of the n·t pool (t = ceil(k/n) copies of each index): at most t of each, and at
          // least t minus the n·t − k left over.
          const t = Math.ceil(k / n);
          for (let i = 0; i < n; i++) {
            const c = got.filter((x) => x === i).length;
            expect(c).toBeLessThanOrEqual(t);
            expect(c).toBeGreaterThanOrEqual(t - (n * t - k));
          }
        }
      }),
    );
    expect(() => sampleNegatives(0, 1, streamFor(1))).toThrow();
    expect(sampleNegatives(0, 0, streamFor(1))).toEqual([]);
  });

  it('shuffleText: only texts over 100 characters, three chunks joined by spaces, same characters', () => {
    const long = 'abcdefghij'.repeat(11);
    expect(shuffleText('short', 1, streamFor(1))).toBe('short');
    expect(shuffleText(long, 0, streamFor(1))).toBe(long);
    const out = shuffleText(long, 1, streamFor(3));
    const chunks = out.split(' ');
    expect(chunks).toHaveLength(3);
    expect(chunks.map((c) => c.length).sort()).toEqual([36, 37, 37]);
    expect([...chunks.join('')].sort().join('')).toBe([...long].sort().join(''));
  });

  it('flagBatch: per query one positive then group size - 1 negatives; scores follow with KD; same key, same draws', () => {
    const recs = [
      { query: 'q0', pos: ['p0a', 'p0b'], neg: ['n0a', 'n0b', 'n0c'], pos_scores: [10, 11], neg_scores: [1, 2, 3] },
      { query: 'q1', pos: ['p1'], neg: ['n1a'], pos_scores: [20], neg_scores: [5] },
    ];
    const kd = { ...opts, knowledgeDistillation: true };
    const a = flagBatch(recs, ['f#0', 'f#1'], 3, 0, kd);
    expect(a.queries).toEqual(['q0', 'q1']);
    expect(a.passages).toHaveLength(6);
    expect(['p0a', 'p0b']).toContain(a.passages[0]);
    expect(a.passages[3]).toBe('p1');
    expect(a.passages.slice(4)).toEqual(['n1a', 'n1a']);
    const score = (p: string): number => ({ p0a: 10, p0b: 11, n0a: 1, n0b: 2, n0c: 3, p1: 20, n1a: 5 })[p] as number;
    expect(a.teacherScores).toEqual(a.passages.map(score));
    expect(flagBatch(recs, ['f#0', 'f#1'], 3, 0, kd)).toEqual(a);
    expect(flagBatch(recs, ['f#0', 'f#1'], 3, 0, opts).teacherScores).toBeNull();
  });
});
