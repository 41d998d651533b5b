/** Shared domain types: data file, dataset, group, global batch, rank slice, shard, manifest. */

/** A data file found by discovery, before it is read. */
export interface DataFile {
  /** Path for people: as given on the command line, or the directory argument joined with the relative path. */
  path: string;
  /** Absolute path used for reading. */
  absPath: string;
  /** Stable id: the argument's base name joined with the path inside it. Keys the example-cap stream. */
  id: string;
  /** Index of the command-line argument it came from. */
  argIndex: number;
  /** True for a file argument; false for a file found inside a directory argument. */
  fromFileArg: boolean;
  /** Id of the directory whose small files it may be merged with (unused for file arguments). */
  dirId: string;
  /** Directory path for people (unused for file arguments). */
  dirPath: string;
  noInBatchNeg: boolean;
}

/** A directory that holds data files but was not walked (no --recursive). */
export interface PassedOver {
  path: string;
  reason: string;
}

export interface Discovery {
  files: DataFile[];
  passedOver: PassedOver[];
  /** Directories walked, in order, as [id, path] (the merge scopes). */
  directories: { id: string; path: string; argIndex: number }[];
}

/** What the indexer learned about one record, carried in typed arrays per file. */
export const RECORD_HAS_SCORES = 1;

/**
 * One data file after reading: references to its records (byte offset, length, line), never the
 * records themselves, plus what grouping needs to know.
 */
export interface FileIndex {
  file: DataFile;
  /** Where the record bytes are read from: the data file, or its decompressed/rewritten copy. */
  readPath: string;
  /** Size of the data file as stored. */
  bytes: number;
  records: number;
  offsets: Float64Array;
  lengths: Uint32Array;
  lines: Uint32Array;
  flags: Uint8Array;
  /** The records' shared `type`, or null when they carry none. */
  type: string | null;
  /** The records' shared `batch_size` field, or null when they carry none. */
  batchSizeField: number | null;
  /** Records skipped under --skip-invalid. */
  invalid: InvalidRecords;
}

export interface InvalidRecords {
  count: number;
  /** Skipped records per error code. */
  codes: Record<string, number>;
  /** The first few error messages, each starting with `file:line`. */
  first: string[];
}

/** A dataset: one data file after the example cap. `kept` holds record indices into its FileIndex. */
export interface Dataset {
  fileIndex: number;
  kept: Uint32Array;
}

export interface Group {
  id: string;
  /** Member datasets in listing order; a group's examples are its members' kept records, concatenated. */
  members: Dataset[];
  size: number;
  batchSize: number;
  type: string | null;
  noInBatchNeg: boolean;
  merged: boolean;
}

export interface SkippedFile {
  path: string;
  records: number;
  reason: string;
}

export interface DroppedGroup {
  id: string;
  members: string[];
  records: number;
  reason: string;
}

export interface Grouping {
  groups: Group[];
  skipped: SkippedFile[];
  dropped: DroppedGroup[];
}

/** One global batch in an epoch's step order: a slice of one group's shuffled examples. */
export interface PlannedBatch {
  group: number;
  /** Group-local example indices, in rank order (rank r holds [r·b, (r+1)·b)). */
  examples: Uint32Array;
}

export interface EpochPlan {
  epoch: number;
  batches: PlannedBatch[];
  /** Per group: examples left out as the incomplete tail this epoch. */
  tails: number[];
}

export interface ShardInfo {
  file: string;
  first_step: number;
  batches: number;
  examples: number;
  bytes: number;
  sha256: string;
}
