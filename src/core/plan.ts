/**
 * Batching: per epoch, shuffle each group, cut it into global batches (the incomplete tail is
 * left out and counted), then shuffle all batches together into the epoch's step order. Pure and
 * over indices only: a batch is a slice of a group's shuffled example indices.
 */
import { SamebatchError } from '../errors.js';
import type { EpochPlan, PlannedBatch } from '../types.js';
import { identity, shuffleInPlace, streamFor } from './rng.js';

export interface PlanGroup {
  id: string;
  /** Key of the group's shuffle stream; the id when absent. */
  key?: string;
  size: number;
  batchSize: number;
}

export interface GroupCounts {
  globalBatchSize: number;
  batchesPerEpoch: number;
  tailPerEpoch: number;
}

/** Batches and tail of a group: the same every epoch (only which examples fall in the tail changes). */
export function countGroup(g: PlanGroup, worldSize: number): GroupCounts {
  const globalBatchSize = g.batchSize * worldSize;
  const batchesPerEpoch = Math.floor(g.size / globalBatchSize);
  return { globalBatchSize, batchesPerEpoch, tailPerEpoch: g.size - batchesPerEpoch * globalBatchSize };
}

/**
 * Fails at preparation time, not deep inside a trainer (upstream fault 10), with the table that
 * explains why no group fills one global batch.
 */
const MAX_TABLE_ROWS = 40;

export function assertSomeBatches(groups: readonly PlanGroup[], worldSize: number): void {
  if (groups.some((g) => countGroup(g, worldSize).batchesPerEpoch > 0)) return;
  // The groups closest to a batch first; a long tail is summed up, not printed whole.
  const shown = [...groups].sort((a, b) => countGroup(b, worldSize).globalBatchSize - b.size - (countGroup(a, worldSize).globalBatchSize - a.size));
  const rows = shown.slice(0, MAX_TABLE_ROWS).map((g) => {
    const c = countGroup(g, worldSize);
    return [g.id, String(g.size), `${g.batchSize} × ${worldSize} = ${c.globalBatchSize}`];
  });
  const more = groups.length - rows.length;
  const detail =
    rows.length === 0
      ? 'no group is left: every data file was empty, skipped or dropped (see the warnings above)'
      : formatTable(['group', 'examples', 'global batch needs'], rows) + (more > 0 ? `\n... and ${more} more group(s), each further from a batch` : '');
  throw new SamebatchError(
    'E_NO_BATCHES',
    `no batch can be made: no group has as many examples as one global batch (per-device batch size × --world-size ${worldSize})`,
    { detail },
  );
}

export function planEpoch(groups: readonly PlanGroup[], worldSize: number, seed: number, epoch: number): EpochPlan {
  const batches: PlannedBatch[] = [];
  const tails: number[] = [];
  for (let gi = 0; gi < groups.length; gi++) {
    const g = groups[gi] as PlanGroup;
    const { globalBatchSize, batchesPerEpoch, tailPerEpoch } = countGroup(g, worldSize);
    const order = shuffleInPlace(identity(g.size), streamFor(seed, 'group', epoch, g.key ?? g.id));
    for (let k = 0; k < batchesPerEpoch; k++) {
      batches.push({ group: gi, examples: order.subarray(k * globalBatchSize, (k + 1) * globalBatchSize) });
    }
    tails.push(tailPerEpoch);
  }
  shuffleInPlace(batches, streamFor(seed, 'steps', epoch));
  return { epoch, batches, tails };
}

/** A plain aligned text table (used by errors and logs). */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}
