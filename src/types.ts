/** Shared domain types: data file, dataset, group, global batch, rank slice, shard, manifest. */

/** A data file found by discovery, before it is read. */
export interface DataFile {
  /** Path for people: as given on the command line, or the directory argument joined with the relative path. */
  path: string;
  /** Absolute path used for reading. */
  absPath: string;
  /** Id for people, unique in the run: the argument's base name joined with the path inside it (`~2`, `~3` for a repeated base name). */
  id: string;
  /**
   * Key of the file's random streams: the id without the `~N` that depends on other arguments, so
   * adding an input never changes another file's subset or shuffle.
   */
  key: string;
  /** Index of the command-line argument it came from. */
  argIndex: number;
  /** True for a file argument; false for a file found inside a directory argument. */
  fromFileArg: boolean;
  /** Id of the directory whose small files it may be merged with (unused for file arguments). */
  dirId: string;
  /** Stream key of that directory (its id without `~N`). */
  dirKey: string;
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

/** Record flags, carried in a typed array per file: teacher scores to drop on output. */
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
  /** 1-based line of each record; kept only when --provenance needs it. */
  lines: Uint32Array | null;
  flags: Uint8Array;
  /** The records' shared `type`, or null when they carry none. */
  type: string | null;
  /** The records' shared `batch_size` field, or null when they carry none. */
  batchSizeField: number | null;
  /** Records skipped under --skip-invalid. */
  invalid: InvalidRecords;
  /** Line of the first record with an empty `neg` (0: none), and whether any record has negatives. */
  emptyNegLine: number;
  anyNegatives: boolean;
  /** Largest `train_group_size` field (0: none), and whether some record has no such field. */
  maxGroupSizeField: number;
  anyWithoutGroupSize: boolean;
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
  /** Key of the group's shuffle stream (see DataFile.key). */
  key: string;
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
  /** Path inside the output directory ("rank-00000/batches-00000.jsonl" with per-rank output). */
  file: string;
  /** With per-rank output: the rank whose slices the shard holds. */
  rank?: number;
  first_step: number;
  batches: number;
  examples: number;
  bytes: number;
  sha256: string;
}
