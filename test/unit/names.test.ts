import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareCodePoints,
  dirMarksNoInBatchNeg,
  fileMarksNoInBatchNeg,
  isDataFileName,
  stripDataExtension,
} from '../../src/core/names.js';

describe('isDataFileName', () => {
  it('accepts .jsonl and .json', () => {
    expect(isDataFileName('train.jsonl')).toBe(true);
    expect(isDataFileName('train.json')).toBe(true);
    expect(isDataFileName('a.b.jsonl')).toBe(true);
  });

  it('refuses other names', () => {
    for (const name of ['train.txt', 'train.csv', 'train.jsonl.bak', 'jsonl', 'train.parquet', 'README.md', 'train']) {
      expect(isDataFileName(name), name).toBe(false);
    }
  });

  // SPEC glossary: "data file: one `.jsonl` or `.json` file (optionally `.gz`)".
  it('accepts gzip-compressed data files (.jsonl.gz, .json.gz)', () => {
    expect(isDataFileName('train.jsonl.gz')).toBe(true);
    expect(isDataFileName('train.json.gz')).toBe(true);
  });

  it('does not take a bare .gz of another format for a data file', () => {
    expect(isDataFileName('train.csv.gz')).toBe(false);
    expect(isDataFileName('train.gz')).toBe(false);
  });
});

describe('stripDataExtension', () => {
  it('removes the data extension', () => {
    expect(stripDataExtension('nli_no_in_batch_neg.jsonl')).toBe('nli_no_in_batch_neg');
    expect(stripDataExtension('nq.json')).toBe('nq');
    expect(stripDataExtension('nq.jsonl.gz')).toBe('nq');
    expect(stripDataExtension('nq.json.gz')).toBe('nq');
  });

  it('leaves other names alone', () => {
    expect(stripDataExtension('notes.txt')).toBe('notes.txt');
  });
});

describe('fileMarksNoInBatchNeg', () => {
  it('marks a file whose name without extension ends with no_in_batch_neg', () => {
    expect(fileMarksNoInBatchNeg('nli_no_in_batch_neg.jsonl')).toBe(true);
    expect(fileMarksNoInBatchNeg('nli_no_in_batch_neg.json')).toBe(true);
    expect(fileMarksNoInBatchNeg('no_in_batch_neg.jsonl')).toBe(true);
    expect(fileMarksNoInBatchNeg('cls-no_in_batch_neg.jsonl')).toBe(true);
  });

  it('does not mark a name that only contains it elsewhere', () => {
    expect(fileMarksNoInBatchNeg('no_in_batch_neg_nli.jsonl')).toBe(false);
    expect(fileMarksNoInBatchNeg('nli_no_in_batch_negs.jsonl')).toBe(false);
    expect(fileMarksNoInBatchNeg('nli.jsonl')).toBe(false);
    expect(fileMarksNoInBatchNeg('nli_in_batch_neg.jsonl')).toBe(false);
  });

  // "a file argument whose name (without extensions) ends with no_in_batch_neg"
  it('marks a compressed file by its name without extensions', () => {
    expect(fileMarksNoInBatchNeg('nli_no_in_batch_neg.jsonl.gz')).toBe(true);
  });
});

describe('dirMarksNoInBatchNeg', () => {
  it('marks a directory whose name ends with no_in_batch_neg', () => {
    expect(dirMarksNoInBatchNeg('classification-no_in_batch_neg')).toBe(true);
    expect(dirMarksNoInBatchNeg('no_in_batch_neg')).toBe(true);
  });

  it('does not mark other directories', () => {
    expect(dirMarksNoInBatchNeg('no_in_batch_neg-classification')).toBe(false);
    expect(dirMarksNoInBatchNeg('retrieval')).toBe(false);
  });
});

function sign(n: number): number {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

/** Reference order: compare arrays of code points lexicographically. */
function referenceCompare(a: string, b: string): number {
  const ca = Array.from(a, (c) => c.codePointAt(0) as number);
  const cb = Array.from(b, (c) => c.codePointAt(0) as number);
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    const x = ca[i] as number;
    const y = cb[i] as number;
    if (x !== y) return x < y ? -1 : 1;
  }
  return sign(ca.length - cb.length);
}

describe('compareCodePoints', () => {
  it('orders U+E000 before an astral character (plain JS `<` gets this wrong)', () => {
    const pua = '\uE000';
    const astral = '\u{1F600}';
    expect(pua < astral).toBe(false); // UTF-16 code-unit order: 0xE000 > 0xD83D
    expect(compareCodePoints(pua, astral)).toBeLessThan(0);
    expect(compareCodePoints(astral, pua)).toBeGreaterThan(0);
    expect(['x\u{1F600}.jsonl', 'x\uE000.jsonl', 'x\uFFFD.jsonl'].sort(compareCodePoints)).toEqual([
      'x\uE000.jsonl',
      'x\uFFFD.jsonl',
      'x\u{1F600}.jsonl',
    ]);
  });

  it('orders upper case before lower case (no locale folding)', () => {
    expect(compareCodePoints('B', 'a')).toBeLessThan(0);
    expect(compareCodePoints('a', 'B')).toBeGreaterThan(0);
    expect(['b', 'a', 'B', 'A'].sort(compareCodePoints)).toEqual(['A', 'B', 'a', 'b']);
  });

  it('orders a prefix first', () => {
    expect(compareCodePoints('a', 'ab')).toBeLessThan(0);
    expect(compareCodePoints('ab', 'a')).toBeGreaterThan(0);
    expect(compareCodePoints('', 'a')).toBeLessThan(0);
  });

  it('gives 0 for equal strings', () => {
    expect(compareCodePoints('', '')).toBe(0);
    expect(compareCodePoints('same\u{1F600}', 'same\u{1F600}')).toBe(0);
  });

  it('orders numbers as text, not by value', () => {
    expect(['file10.jsonl', 'file2.jsonl', 'file1.jsonl'].sort(compareCodePoints)).toEqual([
      'file1.jsonl',
      'file10.jsonl',
      'file2.jsonl',
    ]);
  });

  it('compares strings after a shared astral prefix', () => {
    expect(compareCodePoints('\u{1F600}a', '\u{1F600}b')).toBeLessThan(0);
    expect(compareCodePoints('\u{1F600}\u{1F601}', '\u{1F600}\uE000')).toBeGreaterThan(0);
  });

  it('agrees with code-point order on any strings (property)', () => {
    const str = fc.string({ unit: 'binary', maxLength: 6 });
    fc.assert(
      fc.property(str, str, (a, b) => {
        expect(sign(compareCodePoints(a, b))).toBe(referenceCompare(a, b));
        expect(sign(compareCodePoints(b, a))).toBe(referenceCompare(b, a));
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with code-point order on strings mixing BMP-high and astral characters (property)', () => {
    const unit = fc.constantFrom('a', 'B', '\uE000', '\uFFFF', '\u{10000}', '\u{1F600}', '\u{10FFFF}', '/');
    const str = fc.string({ unit, maxLength: 5 });
    fc.assert(
      fc.property(str, str, (a, b) => {
        expect(sign(compareCodePoints(a, b))).toBe(referenceCompare(a, b));
      }),
      { numRuns: 500 },
    );
  });
});
