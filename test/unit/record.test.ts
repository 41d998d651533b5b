import { describe, expect, it } from 'vitest';
import { checkRecord, isViolation, negativesSampled, type RecordFacts, type Violation } from '../../src/core/record.js';
import { ERROR_CODES } from '../../src/errors.js';
import { RECORD_HAS_SCORES } from '../../src/types.js';

const plain = { knowledgeDistillation: false, trainGroupSize: 8 };
const kd = { knowledgeDistillation: true, trainGroupSize: 8 };

function rec(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { query: 'what is a cat', pos: ['a small feline'], neg: ['a dog', 'a car'], ...extra };
}

function withoutField(field: string, base = rec()): Record<string, unknown> {
  const copy = { ...base };
  delete copy[field];
  return copy;
}

function facts(value: unknown, rules = plain): RecordFacts {
  const r = checkRecord(value, rules);
  if (isViolation(r)) throw new Error(`expected facts, got violation ${JSON.stringify(r)}`);
  return r;
}

function violation(value: unknown, rules = plain): Violation {
  const r = checkRecord(value, rules);
  if (!isViolation(r)) throw new Error(`expected a violation, got facts ${JSON.stringify(r)}`);
  return r;
}

describe('checkRecord: a valid record', () => {
  it('gives its facts: no type, no batch size, no flags', () => {
    expect(facts(rec())).toEqual({ type: null, batchSize: null, flags: 0, negatives: 2, trainGroupSize: null });
  });

  it('reports type and batch_size', () => {
    expect(facts(rec({ type: "symmetric_sts", batch_size: 4 }))).toEqual({ type: "symmetric_sts", batchSize: 4, flags: 0, negatives: 2, trainGroupSize: null });
  });

  it('accepts optional prompt, type and category strings', () => {
    expect(isViolation(checkRecord(rec({ prompt: 'Represent this: ', type: 'normal', category: 'sports' }), plain))).toBe(false);
  });

  it('accepts positive integer batch_size and train_group_size', () => {
    expect(isViolation(checkRecord(rec({ batch_size: 1, train_group_size: 8 }), plain))).toBe(false);
  });

  it('carries unknown fields without complaint', () => {
    expect(isViolation(checkRecord(rec({ id: 17, meta: { source: 'x' }, extra: [1, 2] }), plain))).toBe(false);
  });

  it('accepts an empty query string', () => {
    expect(isViolation(checkRecord(rec({ query: '' }), plain))).toBe(false);
  });
});

describe('checkRecord: not an object', () => {
  for (const [label, value] of [
    ['null', null],
    ['an array', [rec()]],
    ['a string', 'query'],
    ['a number', 3],
    ['a boolean', true],
  ] as const) {
    it(`refuses ${label} with E_NOT_OBJECT`, () => {
      const v = violation(value);
      expect(v.code).toBe('E_NOT_OBJECT');
      expect(v.rule).toMatch(/object/);
    });
  }

  it('says what it found', () => {
    expect(violation([1, 2]).found).toContain('array');
    expect(violation(null).found).toContain('null');
  });
});

describe('checkRecord: query', () => {
  it('is required', () => {
    const v = violation(withoutField('query'));
    expect(v).toMatchObject({ code: 'E_FIELD', field: 'query' });
    expect(v.found).toMatch(/missing/);
  });

  for (const bad of [null, 3, ['q'], { text: 'q' }, true]) {
    it(`must be a string, not ${JSON.stringify(bad)}`, () => {
      expect(violation(rec({ query: bad }))).toMatchObject({ code: 'E_FIELD', field: 'query' });
    });
  }
});

describe('checkRecord: pos', () => {
  it('is required', () => {
    expect(violation(withoutField('pos'))).toMatchObject({ code: 'E_FIELD', field: 'pos' });
  });

  it('must not be empty', () => {
    expect(violation(rec({ pos: [] }))).toMatchObject({ code: 'E_FIELD', field: 'pos' });
  });

  for (const bad of ['a passage', null, 1, { 0: 'x' }]) {
    it(`must be an array, not ${JSON.stringify(bad)}`, () => {
      expect(violation(rec({ pos: bad }))).toMatchObject({ code: 'E_FIELD', field: 'pos' });
    });
  }

  it('must hold only strings, and names the first bad item', () => {
    const v = violation(rec({ pos: ['ok', 'fine', 7, null] }));
    expect(v).toMatchObject({ code: 'E_FIELD', field: 'pos' });
    expect(v.found).toContain('item 2');
    expect(v.found).toContain('7');
  });
});

describe('checkRecord: neg', () => {
  it('is required', () => {
    expect(violation(withoutField('neg'))).toMatchObject({ code: 'E_FIELD', field: 'neg' });
  });

  it('must be an array, not null', () => {
    const v = violation(rec({ neg: null }));
    expect(v).toMatchObject({ code: 'E_FIELD', field: 'neg' });
    expect(v.found).toContain('null');
  });

  it('must be an array, not a string', () => {
    expect(violation(rec({ neg: 'a dog' }))).toMatchObject({ code: 'E_FIELD', field: 'neg' });
  });

  it('must hold only strings, and names the first bad item', () => {
    const v = violation(rec({ neg: ['ok', ['nested']] }));
    expect(v).toMatchObject({ code: 'E_FIELD', field: 'neg' });
    expect(v.found).toContain('item 1');
  });

  it('is checked after pos: a record bad in both reports pos', () => {
    expect(violation(rec({ pos: [], neg: null })).field).toBe('pos');
  });
});

// Upstream fault 3: an empty neg list crashed negative sampling with a division by zero.
// SPEC: neg "may be empty only where no negatives are ever sampled".
describe('negativesSampled', () => {
  it('is one for only_1neg, whatever the group size', () => {
    expect(negativesSampled('only_1neg', null, 8)).toBe(1);
    expect(negativesSampled('only_1neg', 1, 8)).toBe(1);
  });

  it('is zero for symmetric_class (it takes what it has)', () => {
    expect(negativesSampled('symmetric_class', null, 8)).toBe(0);
    expect(negativesSampled('symmetric_class', 4, 8)).toBe(0);
  });

  it('is group size - 1 for other types, the record field overriding the default', () => {
    expect(negativesSampled(null, null, 8)).toBe(7);
    expect(negativesSampled('normal', null, 8)).toBe(7);
    expect(negativesSampled('symmetric_sts', null, 4)).toBe(3);
    expect(negativesSampled('normal', 3, 8)).toBe(2);
    expect(negativesSampled(null, 1, 8)).toBe(0);
    expect(negativesSampled(null, null, 1)).toBe(0);
  });
});

describe('checkRecord: empty neg', () => {
  it('is refused with E_NO_NEGATIVES (exit 1) where negatives will be sampled', () => {
    const v = violation(rec({ neg: [] }));
    expect(v.code).toBe('E_NO_NEGATIVES');
    expect(ERROR_CODES[v.code]).toBe(1);
    expect(v.field).toBe('neg');
    expect(v.rule).toContain('7');
    expect(v.found).toContain('[]');
  });

  it('is refused for only_1neg even with train_group_size 1', () => {
    const v = violation(rec({ neg: [], type: 'only_1neg', train_group_size: 1 }));
    expect(v.code).toBe('E_NO_NEGATIVES');
    expect(v.rule).toContain('only_1neg');
  });

  it('names the record field when train_group_size sets the count', () => {
    const v = violation(rec({ neg: [], train_group_size: 3 }));
    expect(v.code).toBe('E_NO_NEGATIVES');
    expect(v.rule).toContain('train_group_size');
  });

  it('is fine for symmetric_class', () => {
    expect(isViolation(checkRecord(rec({ neg: [], type: 'symmetric_class' }), plain))).toBe(false);
  });

  it('is fine when one passage per query is used', () => {
    expect(isViolation(checkRecord(rec({ neg: [], train_group_size: 1 }), plain))).toBe(false);
    expect(isViolation(checkRecord(rec({ neg: [] }), { knowledgeDistillation: false, trainGroupSize: 1 }))).toBe(false);
  });

  it('is fine with a single negative for a larger group (it is drawn with repetition)', () => {
    expect(isViolation(checkRecord(rec({ neg: ['only one'] }), plain))).toBe(false);
  });
});

describe('checkRecord: optional strings', () => {
  for (const field of ['prompt', 'type', 'category']) {
    it(`${field} must be a string when present`, () => {
      expect(violation(rec({ [field]: 5 }))).toMatchObject({ code: 'E_FIELD', field });
      expect(violation(rec({ [field]: ['x'] }))).toMatchObject({ code: 'E_FIELD', field });
      expect(violation(rec({ [field]: { a: 1 } }))).toMatchObject({ code: 'E_FIELD', field });
    });
  }
});

describe('checkRecord: batch_size and train_group_size', () => {
  for (const bad of [0, -1, 1.5, '4', true, [4], Number.MAX_SAFE_INTEGER + 1]) {
    it(`batch_size ${JSON.stringify(bad)} is E_BATCH_SIZE`, () => {
      expect(violation(rec({ batch_size: bad }))).toMatchObject({ code: 'E_BATCH_SIZE', field: 'batch_size' });
    });
  }

  for (const bad of [0, -3, 2.5, '8']) {
    it(`train_group_size ${JSON.stringify(bad)} is E_FIELD`, () => {
      expect(violation(rec({ train_group_size: bad }))).toMatchObject({ code: 'E_FIELD', field: 'train_group_size' });
    });
  }
});

describe('checkRecord: teacher scores without --knowledge-distillation', () => {
  it('flags a record that carries scores, so they can be stripped', () => {
    expect(facts(rec({ pos_scores: [0.9], neg_scores: [0.1, 0.2] })).flags & RECORD_HAS_SCORES).toBe(RECORD_HAS_SCORES);
  });

  it('flags a record that carries only one of the two score fields', () => {
    expect(facts(rec({ neg_scores: [0.1, 0.2] })).flags & RECORD_HAS_SCORES).toBe(RECORD_HAS_SCORES);
    expect(facts(rec({ pos_scores: [1] })).flags & RECORD_HAS_SCORES).toBe(RECORD_HAS_SCORES);
  });

  it('does not check scores it will remove', () => {
    expect(isViolation(checkRecord(rec({ pos_scores: 'bad', neg_scores: [1] }), plain))).toBe(false);
  });

  it('does not flag a record without scores', () => {
    expect(facts(rec()).flags & RECORD_HAS_SCORES).toBe(0);
  });
});

describe('checkRecord: teacher scores with --knowledge-distillation', () => {
  const good = rec({ pos_scores: [0.9], neg_scores: [0.2, -1.5] });

  it('accepts finite scores of matching lengths, and does not flag them for removal', () => {
    expect(facts(good, kd)).toEqual({ type: null, batchSize: null, flags: 0, negatives: 2, trainGroupSize: null });
  });

  it('accepts empty neg with empty neg_scores where no negative is sampled', () => {
    expect(isViolation(checkRecord(rec({ type: 'symmetric_class', neg: [], pos_scores: [1], neg_scores: [] }), kd))).toBe(false);
  });

  it('requires pos_scores', () => {
    expect(violation(withoutField('pos_scores', good), kd)).toMatchObject({ code: 'E_SCORES', field: 'pos_scores' });
  });

  it('requires neg_scores', () => {
    expect(violation(withoutField('neg_scores', good), kd)).toMatchObject({ code: 'E_SCORES', field: 'neg_scores' });
  });

  it('requires arrays', () => {
    expect(violation({ ...good, pos_scores: 0.9 }, kd)).toMatchObject({ code: 'E_SCORES', field: 'pos_scores' });
    expect(violation({ ...good, neg_scores: null }, kd)).toMatchObject({ code: 'E_SCORES', field: 'neg_scores' });
  });

  it('requires finite numbers', () => {
    for (const bad of ['0.5', null, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const v = violation({ ...good, neg_scores: [0.1, bad] }, kd);
      expect(v).toMatchObject({ code: 'E_SCORES', field: 'neg_scores' });
      expect(v.found).toContain('item 1');
    }
  });

  it('requires one score per positive', () => {
    const v = violation({ ...good, pos_scores: [0.9, 0.8] }, kd);
    expect(v).toMatchObject({ code: 'E_SCORES', field: 'pos_scores' });
    expect(v.rule).toContain('(1)');
    expect(v.found).toContain('2');
  });

  it('requires one score per negative', () => {
    const v = violation({ ...good, neg_scores: [0.2] }, kd);
    expect(v).toMatchObject({ code: 'E_SCORES', field: 'neg_scores' });
    expect(v.rule).toContain('"neg"');
    expect(v.rule).toContain('(2)');
  });

  it('checks the record shape before the scores', () => {
    expect(violation({ ...good, query: 1, pos_scores: undefined }, kd).field).toBe('query');
  });
});

describe('isViolation', () => {
  it('tells facts from violations', () => {
    expect(isViolation({ type: null, batchSize: null, flags: 0, negatives: 0, trainGroupSize: null })).toBe(false);
    expect(isViolation({ code: 'E_FIELD', field: 'query', rule: 'must be a string', found: 'number 1' })).toBe(true);
  });
});
