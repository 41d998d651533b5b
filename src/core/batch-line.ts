/**
 * The batch line: one JSON object per global batch. The examples are spliced in as the records'
 * own bytes by the writer, so this module only makes the text around them.
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
  noInBatchNeg: boolean;
}

/** Text before the first example and after the last: `head` + examples joined by "," + `tail`. */
export function batchLineParts(h: BatchHeader, provenance: readonly string[] | null): { head: string; tail: string } {
  const head =
    `{"epoch":${h.epoch},"step":${h.step},"epoch_step":${h.epochStep},"group":${JSON.stringify(h.group)},` +
    `"type":${JSON.stringify(h.type)},"batch_size":${h.batchSize},"world_size":${h.worldSize},` +
    `"no_in_batch_neg":${h.noInBatchNeg},` +
    (provenance === null ? '' : `"provenance":${JSON.stringify(provenance)},`) +
    `"examples":[`;
  return { head, tail: ']}\n' };
}
