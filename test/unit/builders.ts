/** Small builders of core inputs for the unit tests. */
import type { DatasetInput } from '../../src/core/group.js';
import { identity } from '../../src/core/rng.js';
import type { DataFile, FileIndex, InvalidRecords } from '../../src/types.js';

export interface DatasetSpec {
  /** Records kept (0..size-1), unless `kept` is given. */
  size?: number;
  kept?: readonly number[];
  type?: string | null;
  batchSizeField?: number | null;
  noInBatchNeg?: boolean;
}

/** A data file given as a file argument. */
export function fileArg(name: string, argIndex: number, spec: DatasetSpec = {}): Omit<DatasetInput, 'fileIndex'> {
  const file: DataFile = {
    path: `in/${name}`,
    absPath: `/abs/in/${name}`,
    id: name,
    key: name,
    argIndex,
    fromFileArg: true,
    dirId: '',
    dirKey: '',
    dirPath: '',
    noInBatchNeg: spec.noInBatchNeg ?? false,
  };
  return dataset(file, spec);
}

/** A data file found directly inside directory `dir` (given as argument `argIndex`). */
export function dirFile(dir: string, name: string, argIndex: number, spec: DatasetSpec = {}): Omit<DatasetInput, 'fileIndex'> {
  const file: DataFile = {
    path: `in/${dir}/${name}`,
    absPath: `/abs/in/${dir}/${name}`,
    id: `${dir}/${name}`,
    key: `${dir}/${name}`,
    argIndex,
    fromFileArg: false,
    dirId: dir,
    dirKey: dir,
    dirPath: `in/${dir}`,
    noInBatchNeg: spec.noInBatchNeg ?? false,
  };
  return dataset(file, spec);
}

function dataset(file: DataFile, spec: DatasetSpec): Omit<DatasetInput, 'fileIndex'> {
  return {
    file,
    kept: spec.kept ? Uint32Array.from(spec.kept) : identity(spec.size ?? 0),
    type: spec.type ?? null,
    batchSizeField: spec.batchSizeField ?? null,
    invalid: 0,
  };
}

/** Numbers the datasets in discovery order, as the indexer does. */
export function indexed(list: readonly Omit<DatasetInput, 'fileIndex'>[]): DatasetInput[] {
  return list.map((d, fileIndex) => ({ ...d, fileIndex }));
}

export const noInvalid: InvalidRecords = { count: 0, codes: {}, first: [] };

/** A FileIndex for a dataset as the indexer would leave it (references all zero). */
export function fileIndexOf(d: Omit<DatasetInput, 'fileIndex'>, records: number, invalid: InvalidRecords = noInvalid): FileIndex {
  return {
    file: d.file,
    readPath: d.file.absPath,
    bytes: records * 100,
    records,
    offsets: new Float64Array(records),
    lengths: new Uint32Array(records),
    lines: new Uint32Array(records),
    flags: new Uint8Array(records),
    type: d.type,
    batchSizeField: d.batchSizeField,
    invalid,
    emptyNegLine: 0,
    anyNegatives: true,
    maxGroupSizeField: 0,
    anyWithoutGroupSize: true,
  };
}
