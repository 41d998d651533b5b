/**
 * Grouping: datasets → groups, with FlagEmbedding's small/drop thresholds and its faults fixed.
 * Pure: takes the indexed datasets in discovery order, returns groups plus everything skipped
 * or dropped with its reason.
 */
import { SamebatchError } from '../errors.js';
import type { DataFile, Dataset, DroppedGroup, Group, Grouping, SkippedFile } from '../types.js';
import { compareCodePoints } from './names.js';

export interface DatasetInput extends Dataset {
  file: DataFile;
  /** Records skipped as invalid (--skip-invalid); 0 otherwise. */
  invalid: number;
  type: string | null;
  batchSizeField: number | null;
}

export interface GroupingRules {
  batchSize: number;
  smallThreshold: number;
  dropThreshold: number;
}

/**
 * Per-device batch size of a dataset: its `batch_size` field; else half the default for a
 * symmetric type; else the default. Zero is an error naming the file (upstream fault 8 crashed).
 */
export function datasetBatchSize(d: Pick<DatasetInput, 'file' | 'type' | 'batchSizeField'>, defaultBatchSize: number): number {
  if (d.batchSizeField !== null) return d.batchSizeField;
  const b = d.type !== null && d.type.includes('symmetric') ? Math.floor(defaultBatchSize / 2) : defaultBatchSize;
  if (b < 1) {
    throw new SamebatchError(
      'E_BATCH_SIZE_ZERO',
      `${d.file.path}: type "${d.type}" takes half of --batch-size ${defaultBatchSize}, which is 0; ` +
        'use --batch-size 2 or more, or give the dataset a "batch_size" field',
      { location: { file: d.file.path } },
    );
  }
  return b;
}

function size(d: Dataset): number {
  return d.kept.length;
}

function mergedGroupId(dirId: string, type: string | null): string {
  return type === null ? `${dirId}/<small>` : `${dirId}/<small:${type}>`;
}

export function groupDatasets(datasets: readonly DatasetInput[], rules: GroupingRules): Grouping {
  const groups: Group[] = [];
  const skipped: SkippedFile[] = [];
  const dropped: DroppedGroup[] = [];

  const own = (d: DatasetInput): Group => ({
    id: d.file.id,
    key: d.file.key,
    members: [{ fileIndex: d.fileIndex, kept: d.kept }],
    size: size(d),
    batchSize: datasetBatchSize(d, rules.batchSize),
    type: d.type,
    noInBatchNeg: d.file.noInBatchNeg,
    merged: false,
  });

  // Small files wait here until their directory's run of files ends. Keyed by type so merging
  // never mixes task types (upstream fault 2).
  let pendingDir: string | null = null;
  let small = new Map<string | null, DatasetInput[]>();

  const flushSmall = (): void => {
    const types = [...small.keys()].sort((a, b) => (a === null ? -1 : b === null ? 1 : compareCodePoints(a, b)));
    for (const type of types) {
      const members = small.get(type) ?? [];
      const first = members[0];
      if (!first) continue;
      const records = members.reduce((n, d) => n + size(d), 0);
      const id = mergedGroupId(first.file.dirId, type);
      if (records < rules.dropThreshold) {
        dropped.push({
          id,
          members: members.map((d) => d.file.path),
          records,
          reason: `merged small files hold ${records} examples, fewer than --drop-threshold ${rules.dropThreshold}`,
        });
        continue;
      }
      groups.push({
        id,
        key: mergedGroupId(first.file.dirKey, type),
        members: members.map((d) => ({ fileIndex: d.fileIndex, kept: d.kept })),
        size: records,
        batchSize: Math.min(...members.map((d) => datasetBatchSize(d, rules.batchSize))),
        type,
        noInBatchNeg: first.file.noInBatchNeg,
        merged: true,
      });
    }
    small = new Map();
  };

  for (const d of datasets) {
    const dirKey = d.file.fromFileArg ? null : `${d.file.argIndex}\u0000${d.file.dirId}`;
    if (dirKey !== pendingDir) {
      flushSmall();
      pendingDir = dirKey;
    }
    const n = size(d);
    if (n === 0) {
      // upstream fault 9: an empty file crashed the loader.
      skipped.push({ path: d.file.path, records: 0, reason: d.invalid > 0 ? `empty: no valid records (${d.invalid} invalid, skipped)` : 'empty: no records' });
    } else if (n >= rules.smallThreshold) {
      groups.push(own(d));
    } else if (d.file.fromFileArg) {
      // upstream fault 4: FlagEmbedding drops these without a word.
      skipped.push({
        path: d.file.path,
        records: n,
        reason: `file argument with ${n} examples, fewer than --small-threshold ${rules.smallThreshold}`,
      });
    } else {
      const list = small.get(d.type);
      if (list) list.push(d);
      else small.set(d.type, [d]);
    }
  }
  flushSmall();
  return { groups, skipped, dropped };
}

/** Maps a group-local example index to (file index, record index), by binary search over member starts. */
export function exampleLocator(g: Pick<Group, 'members'>): (local: number) => [number, number] {
  const starts: number[] = [];
  let n = 0;
  for (const d of g.members) {
    starts.push(n);
    n += d.kept.length;
  }
  return (local) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] as number) <= local) lo = mid;
      else hi = mid - 1;
    }
    const d = g.members[lo] as Dataset;
    return [d.fileIndex, d.kept[local - (starts[lo] as number)] as number];
  };
}

export interface NegativeFacts {
  path: string;
  /** Line of the first record with an empty `neg` (0: none). */
  emptyNegLine: number;
  anyNegatives: boolean;
  /** Largest `train_group_size` field (0: none), and whether some record has no such field. */
  maxGroupSizeField: number;
  anyWithoutGroupSize: boolean;
}

/**
 * Passages per query come from a batch's first record, and any record of a group can come
 * first: so a record without negatives fails (upstream fault 3's crash) as soon as a batch it is
 * in starts with a record that asks for negatives. Checked per group, since a merged group's
 * batches mix its files; records are checked one by one when they are read.
 * - `symmetric_class`: min(first record's negatives + 1, group size) passages, so negatives are
 *   asked for whenever some record has them.
 * - `only_1neg` always asks for one (checked per record).
 * - other types: the first record's `train_group_size`, or the default.
 */
export function assertGroupNegatives(groups: readonly Group[], facts: (fileIndex: number) => NegativeFacts, trainGroupSize: number): void {
  for (const g of groups) {
    if (g.type === 'only_1neg') continue;
    const members = g.members.map((d) => facts(d.fileIndex));
    const empty = members.find((m) => m.emptyNegLine > 0);
    if (!empty) continue;
    let why: string | null = null;
    if (g.type !== null && g.type.includes('symmetric_class')) {
      const withNegatives = members.find((m) => m.anyNegatives);
      if (trainGroupSize > 1 && withNegatives) {
        why = `group ${g.id} is symmetric_class and other records (in ${withNegatives.path}) have negatives, so a batch that starts with one of those samples negatives from this record too`;
      }
    } else {
      const fieldMax = Math.max(...members.map((m) => m.maxGroupSizeField));
      const largest = Math.max(fieldMax, members.some((m) => m.anyWithoutGroupSize) ? trainGroupSize : 0);
      if (largest > 1) {
        why = `a batch of group ${g.id} can start with a record asking for ${largest} passages per query (${largest === fieldMax ? 'its train_group_size' : '--train-group-size'}), and then samples ${largest - 1} negative(s) from every record in it`;
      }
    }
    if (why !== null) {
      throw new SamebatchError('E_NO_NEGATIVES', `${empty.path}:${empty.emptyNegLine}: field "neg" must hold at least one negative: ${why}, got array []`, {
        location: { file: empty.path, line: empty.emptyNegLine },
      });
    }
  }
}
