/**
 * The manifest: the index and receipt of a run. Pure: made from the run's plain data. It holds no
 * timestamps or machine facts, so the same command gives the same bytes.
 */
import type { FileIndex, Group, Grouping, PassedOver, ShardInfo } from '../types.js';
import type { Fingerprint } from './fingerprint.js';
import type { GroupCounts } from './plan.js';

export const MANIFEST_FORMAT = 1;

export interface ManifestInput {
  version: string;
  /** What the output depends on (input contents, options, version), for `build --if-changed`. */
  fingerprint?: Fingerprint | null;
  options: Record<string, unknown>;
  indexes: readonly FileIndex[];
  kept: readonly number[];
  grouping: Grouping;
  counts: readonly GroupCounts[];
  passedOver: readonly PassedOver[];
  epochs: number;
  worldSize: number;
  format: 'raw' | 'flag';
  perRank: boolean;
  shards: readonly ShardInfo[];
}

/** A group as the manifest's `groups[]` (and the plan report) describe it. */
export interface ManifestGroup {
  id: string;
  merged: boolean;
  members: string[];
  examples: number;
  type: string | null;
  no_in_batch_neg: boolean;
  batch_size: number;
  global_batch_size: number;
  batches_per_epoch: number;
  tail_left_out_per_epoch: number;
}

export function describeGroup(g: Group, c: GroupCounts, indexes: readonly FileIndex[]): ManifestGroup {
  return {
    id: g.id,
    merged: g.merged,
    members: g.members.map((d) => (indexes[d.fileIndex] as FileIndex).file.path),
    examples: g.size,
    type: g.type,
    no_in_batch_neg: g.noInBatchNeg,
    batch_size: g.batchSize,
    global_batch_size: c.globalBatchSize,
    batches_per_epoch: c.batchesPerEpoch,
    tail_left_out_per_epoch: c.tailPerEpoch,
  };
}

export function buildManifest(m: ManifestInput): Record<string, unknown> {
  const stepsPerEpoch = m.counts.reduce((n, c) => n + c.batchesPerEpoch, 0);
  const examplesPerEpoch = m.counts.reduce((n, c) => n + c.batchesPerEpoch * c.globalBatchSize, 0);
  const tailPerEpoch = m.counts.reduce((n, c) => n + c.tailPerEpoch, 0);
  const groupOf = new Map<string, string>();
  m.grouping.groups.forEach((g) => {
    for (const d of g.members) groupOf.set((m.indexes[d.fileIndex] as FileIndex).file.path, g.id);
  });
  return {
    tool: 'samebatch',
    format: MANIFEST_FORMAT,
    version: m.version,
    fingerprint: m.fingerprint ?? null,
    options: m.options,
    layout: {
      format: m.format,
      ranks: m.perRank ? 'per-rank' : 'global',
      line:
        (m.perRank
          ? 'one rank slice of one global batch: rank r\'s shards (rank-RRRRR/) hold, line for line, its slice of the same steps'
          : 'one global batch of one group, ranks in order: rank r takes its slice [r*batch_size, (r+1)*batch_size)') +
        (m.format === 'flag'
          ? '; queries, passages (per query one positive then train_group_size-1 negatives) and teacher_scores, as FlagEmbedding\'s same-dataset collator takes them'
          : '; examples are the records themselves'),
      step_order: 'line k of the concatenated shards (of each rank) is global step k; epochs follow each other',
      rank_dirs: m.perRank ? Array.from({ length: m.worldSize }, (_, r) => `rank-${String(r).padStart(5, '0')}`) : null,
    },
    totals: {
      epochs: m.epochs,
      world_size: m.worldSize,
      steps_per_epoch: stepsPerEpoch,
      steps: stepsPerEpoch * m.epochs,
      examples_per_epoch: examplesPerEpoch,
      tail_left_out_per_epoch: tailPerEpoch,
      groups: m.grouping.groups.length,
      files: m.indexes.length,
      records: m.indexes.reduce((n, ix) => n + ix.records, 0),
      records_invalid: m.indexes.reduce((n, ix) => n + ix.invalid.count, 0),
      records_kept: m.kept.reduce((n, k) => n + k, 0),
    },
    inputs: m.indexes.map((ix, i) => ({
      path: ix.file.path,
      id: ix.file.id,
      bytes: ix.bytes,
      records: ix.records,
      kept: m.kept[i],
      invalid: ix.invalid.count === 0 ? null : ix.invalid,
      type: ix.type,
      no_in_batch_neg: ix.file.noInBatchNeg,
      group: groupOf.get(ix.file.path) ?? null,
    })),
    groups: m.grouping.groups.map((g, i) => describeGroup(g, m.counts[i] as GroupCounts, m.indexes)),
    skipped: m.grouping.skipped,
    dropped: m.grouping.dropped,
    passed_over: m.passedOver,
    shards: m.shards,
  };
}
