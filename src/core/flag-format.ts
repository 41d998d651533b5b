/**
 * `--format flag`: a batch as the ready input of FlagEmbedding's same-dataset collator — the
 * queries, their passages (for each query one positive then its negatives) and the teacher
 * scores in the same order. Every draw comes from a stream keyed by (seed, epoch, example), so
 * re-running gives the same bytes and each epoch samples anew. Pure.
 */
import { below, shuffleInPlace, streamFor, type Rng } from './rng.js';

export interface FlagOptions {
  seed: number;
  knowledgeDistillation: boolean;
  trainGroupSize: number;
  queryInstruction: string | null;
  queryInstructionFormat: string;
  passageInstruction: string | null;
  passageInstructionFormat: string;
  shuffleRatio: number;
}

export interface FlagRecord {
  query: string;
  pos: string[];
  neg: string[];
  pos_scores?: number[];
  neg_scores?: number[];
  prompt?: string | null;
  type?: string | null;
  train_group_size?: number | null;
}

export interface FlagBatch {
  trainGroupSize: number;
  queries: string[];
  passages: string[];
  teacherScores: number[] | null;
}

/**
 * Passages per query for a batch, from its first record: `only_1neg` 2; `symmetric_class`
 * min(negatives + 1, --train-group-size); else the record's `train_group_size`, or the default.
 */
export function groupSizeOf(first: FlagRecord, o: Pick<FlagOptions, 'trainGroupSize'>): number {
  const type = first.type ?? null;
  if (type === 'only_1neg') return 2;
  if (type !== null && type.includes('symmetric_class')) return Math.min(first.neg.length + 1, o.trainGroupSize);
  return first.train_group_size ?? o.trainGroupSize;
}

/** Python's "{}{}".format(instruction, text) for the two-slot templates the options allow. */
export function fillTemplate(template: string, instruction: string | null, text: string): string {
  if (instruction === null) return text;
  const [a, b, c] = template.split('{}') as [string, string, string];
  return `${a}${instruction}${b}${text}${c}`;
}

/**
 * FlagEmbedding's augmentation: with probability `ratio`, a text longer than 100 characters is
 * cut into three chunks that are put back in random order, joined by spaces.
 */
export function shuffleText(text: string, ratio: number, rng: Rng): string {
  if (ratio <= 0) return text;
  // Lengths and cuts in code points, as Python counts them: never half of a surrogate pair.
  const chars = Array.from(text);
  if (chars.length <= 100 || rng() >= ratio) return text;
  const size = Math.floor(chars.length / 3) + 1;
  const chunks: string[] = [];
  for (let i = 0; i < chars.length; i += size) chunks.push(chars.slice(i, i + size).join(''));
  return shuffleInPlace(chunks, rng).join(' ');
}

/**
 * `k` negative indices of `n`: without repetition when there are enough, else drawn from the
 * indices repeated as often as needed (FlagEmbedding's rule), so a record with fewer negatives
 * than asked for still fills its group.
 */
export function sampleNegatives(n: number, k: number, rng: Rng): number[] {
  if (k <= 0) return [];
  if (n === 0) throw new Error('no negatives to sample from (records are checked for this before writing)');
  const times = n >= k ? 1 : Math.ceil(k / n);
  const pool: number[] = [];
  for (let t = 0; t < times; t++) for (let i = 0; i < n; i++) pool.push(i);
  for (let i = 0; i < k; i++) {
    const j = i + below(rng, pool.length - i);
    const x = pool[i] as number;
    pool[i] = pool[j] as number;
    pool[j] = x;
  }
  return pool.slice(0, k);
}

/**
 * One batch (or rank slice) in the flag format. `keys[i]` identifies example i stably (its file
 * key and record index); `groupSize` comes from the global batch's first record, so every rank
 * slice of a step has the same shape.
 */
export function flagBatch(records: readonly FlagRecord[], keys: readonly string[], groupSize: number, epoch: number, o: FlagOptions): FlagBatch {
  const queries: string[] = [];
  const passages: string[] = [];
  const teacherScores: number[] | null = o.knowledgeDistillation ? [] : null;
  records.forEach((r, i) => {
    const rng = streamFor(o.seed, 'flag', epoch, keys[i] ?? String(i));
    const instruction = r.prompt ?? o.queryInstruction;
    queries.push(fillTemplate(o.queryInstructionFormat, instruction, r.query));
    const posIndex = below(rng, r.pos.length);
    const negIndices = sampleNegatives(r.neg.length, groupSize - 1, rng);
    const texts = [shuffleText(r.pos[posIndex] as string, o.shuffleRatio, rng), ...negIndices.map((j) => r.neg[j] as string)];
    const type = r.type ?? null;
    const symmetric = type === 'symmetric_sts' || type === 'symmetric_clustering';
    for (const t of texts) {
      passages.push(symmetric ? fillTemplate(o.queryInstructionFormat, instruction, t) : fillTemplate(o.passageInstructionFormat, o.passageInstruction, t));
    }
    if (teacherScores) {
      teacherScores.push((r.pos_scores ?? [])[posIndex] as number, ...negIndices.map((j) => (r.neg_scores ?? [])[j] as number));
    }
  });
  return { trainGroupSize: groupSize, queries, passages, teacherScores };
}
