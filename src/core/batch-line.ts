/**
 * The batch line: one JSON object per global batch (or, with per-rank output, per rank slice).
 * The metadata comes first; then either the records themselves (`examples`, spliced in as their
 * own bytes by the writer) or, in the flag format, `queries`/`passages`/`teacher_scores`.
 */

export interface BatchHeader {
  epoch: number;
  /** Step across all epochs: line k of the output is step k. */
  step: number;
  /** Step within its epoch. */
  epochStep: number;
  group: string;
  type: string | null;
  batchSize: number;
  worldSize: number;
  /** Present in per-rank lines only. */
  rank?: number;
  noInBatchNeg: boolean;
}

/** The metadata fields (and provenance), up to and including the comma before the payload. */
export function lineHead(h: BatchHeader, provenance: readonly string[] | null): string {
  return (
    `{"epoch":${h.epoch},"step":${h.step},"epoch_step":${h.epochStep},"group":${JSON.stringify(h.group)},` +
    `"type":${JSON.stringify(h.type)},"batch_size":${h.batchSize},"world_size":${h.worldSize},` +
    (h.rank === undefined ? '' : `"rank":${h.rank},`) +
    `"no_in_batch_neg":${h.noInBatchNeg},` +
    (provenance === null ? '' : `"provenance":${JSON.stringify(provenance)},`)
  );
}

/** Raw format: `head` + examples joined by "," + `tail`. */
export function batchLineParts(h: BatchHeader, provenance: readonly string[] | null): { head: string; tail: string } {
  return { head: `${lineHead(h, provenance)}"examples":[`, tail: RAW_TAIL };
}

export const RAW_TAIL = ']}\n';

/** Flag format: what follows the head. */
export function flagPayload(p: { trainGroupSize: number; queries: string[]; passages: string[]; teacherScores: number[] | null }): string {
  return (
    `"train_group_size":${p.trainGroupSize},"queries":${JSON.stringify(p.queries)},` +
    `"passages":${JSON.stringify(p.passages)},"teacher_scores":${JSON.stringify(p.teacherScores)}}\n`
  );
}
