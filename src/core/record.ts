/**
 * The record contract (SPEC's field table), checked on parsed JSON. Pure: returns what grouping
 * needs, or the first violation, which the reader turns into an error with `file:line`.
 */
import { describeFound, type ErrorCode } from '../errors.js';
import { RECORD_HAS_SCORES } from '../types.js';

export interface RecordFacts {
  type: string | null;
  batchSize: number | null;
  flags: number;
  negatives: number;
  /** The record's `train_group_size` field, or null. */
  trainGroupSize: number | null;
}

export interface Violation {
  code: ErrorCode;
  field: string;
  rule: string;
  found: string;
}

export interface RecordRules {
  knowledgeDistillation: boolean;
  /** Default passages per query (FlagEmbedding's train_group_size). */
  trainGroupSize: number;
}

/**
 * Negatives the trainer will sample from a record: `only_1neg` takes one; `symmetric_class`
 * takes what it has (min(negatives + 1, group size) passages); every other type takes group
 * size − 1, drawn with repetition when the record has fewer. Zero negatives to draw from where
 * one is needed crashed FlagEmbedding with a division by zero (upstream fault 3).
 */
export function negativesSampled(type: string | null, recordGroupSize: number | null, defaultGroupSize: number): number {
  if (type === 'only_1neg') return 1;
  if (type !== null && type.includes('symmetric_class')) return 0;
  return (recordGroupSize ?? defaultGroupSize) - 1;
}

const OPTIONAL_STRINGS = ['prompt', 'type', 'category'] as const;
const OPTIONAL_POSITIVE_INTS = ['batch_size', 'train_group_size'] as const;
/** Passages per query beyond any real recipe: refused rather than expanded into gigabytes. */
export const MAX_TRAIN_GROUP_SIZE = 10_000;

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

function isFiniteNumberArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x));
}

function firstBadItem(v: unknown[], ok: (x: unknown) => boolean): string {
  const i = v.findIndex((x) => !ok(x));
  return `item ${i} is ${describeFound(v[i])}`;
}

/** Checks one parsed record; returns its facts or the first rule it breaks. */
export function checkRecord(value: unknown, rules: RecordRules): RecordFacts | Violation {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { code: 'E_NOT_OBJECT', field: '(record)', rule: 'each record must be a JSON object', found: describeFound(value) };
  }
  const r = value as Record<string, unknown>;
  const v = (field: string, rule: string, code: ErrorCode = 'E_FIELD'): Violation => ({ code, field, rule, found: describeFound(r[field]) });

  if (typeof r.query !== 'string') return v('query', 'must be a string');
  if (!Array.isArray(r.pos) || r.pos.length === 0) return v('pos', 'must be a non-empty array of strings');
  if (!isStringArray(r.pos)) return { ...v('pos', 'must be a non-empty array of strings'), found: firstBadItem(r.pos, (x) => typeof x === 'string') };
  if (!Array.isArray(r.neg)) return v('neg', 'must be an array of strings');
  if (!isStringArray(r.neg)) return { ...v('neg', 'must be an array of strings'), found: firstBadItem(r.neg, (x) => typeof x === 'string') };
  for (const f of OPTIONAL_STRINGS) {
    if (r[f] !== undefined && r[f] !== null && typeof r[f] !== 'string') return v(f, 'must be a string when present');
  }
  for (const f of OPTIONAL_POSITIVE_INTS) {
    const x = r[f];
    if (x !== undefined && x !== null && !(typeof x === 'number' && Number.isSafeInteger(x) && x >= 1)) {
      return v(f, 'must be a positive integer when present', f === 'batch_size' ? 'E_BATCH_SIZE' : 'E_FIELD');
    }
  }
  if (typeof r.train_group_size === 'number' && r.train_group_size > MAX_TRAIN_GROUP_SIZE) {
    return v('train_group_size', `must be at most ${MAX_TRAIN_GROUP_SIZE}`);
  }

  const type = typeof r.type === 'string' ? r.type : null;
  const groupSize = typeof r.train_group_size === 'number' ? r.train_group_size : null;
  const sampled = negativesSampled(type, groupSize, rules.trainGroupSize);
  if (sampled > 0 && r.neg.length === 0) {
    const why = type === 'only_1neg' ? 'type "only_1neg" takes one negative per query'
      : `${groupSize ?? rules.trainGroupSize} passages per query (${groupSize === null ? '--train-group-size' : 'its train_group_size'}) means ${sampled} negative(s) sampled from it`;
    return { code: 'E_NO_NEGATIVES', field: 'neg', rule: `must hold at least one negative: ${why}`, found: describeFound(r.neg) };
  }

  let flags = 0;
  const hasScores = r.pos_scores !== undefined || r.neg_scores !== undefined;
  if (rules.knowledgeDistillation) {
    for (const [f, list] of [['pos_scores', r.pos], ['neg_scores', r.neg]] as const) {
      const s = r[f];
      if (s === undefined) return v(f, 'is required with --knowledge-distillation', 'E_SCORES');
      if (!Array.isArray(s)) return v(f, 'must be an array of finite numbers', 'E_SCORES');
      if (!isFiniteNumberArray(s)) {
        return { ...v(f, 'must be an array of finite numbers', 'E_SCORES'), found: firstBadItem(s, (x) => typeof x === 'number' && Number.isFinite(x)) };
      }
      if (s.length !== list.length) {
        const of = f === 'pos_scores' ? 'pos' : 'neg';
        return { code: 'E_SCORES', field: f, rule: `must have one score per item of "${of}" (${list.length})`, found: `${s.length} scores` };
      }
    }
  } else if (hasScores) {
    // Teacher scores leave the output without --knowledge-distillation (FlagEmbedding does the same).
    flags |= RECORD_HAS_SCORES;
  }

  return {
    type,
    batchSize: typeof r.batch_size === 'number' ? r.batch_size : null,
    flags,
    negatives: r.neg.length,
    trainGroupSize: groupSize,
  };
}

export function isViolation(x: RecordFacts | Violation): x is Violation {
  return (x as Violation).rule !== undefined;
}
