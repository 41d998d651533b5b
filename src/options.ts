/**
 * Options, declared once: one typed table with defaults and documentation. The CLI generates its
 * kebab-case flags from it, `--help` prints it, and `resolveOptions` validates in one place.
 */
import os from 'node:os';
import { SamebatchError } from './errors.js';

export interface BuildOptions {
  batchSize: number;
  worldSize: number;
  seed: number;
  epochs: number;
  smallThreshold: number;
  dropThreshold: number;
  maxExamplesPerDataset: number | null;
  knowledgeDistillation: boolean;
  trainGroupSize: number;
  skipInvalid: boolean;
  recursive: boolean;
  out: string;
  shardMaxBatches: number;
  shardMaxBytes: number;
  force: boolean;
  ifChanged: boolean;
  provenance: boolean;
  perRank: boolean;
  format: 'raw' | 'flag';
  queryInstruction: string | null;
  queryInstructionFormat: string;
  passageInstruction: string | null;
  passageInstructionFormat: string;
  shuffleRatio: number;
  jobs: number;
  logLevel: string;
}

type Kind = 'posint' | 'nonnegint' | 'int' | 'bytes' | 'flag' | 'string' | 'text' | 'template' | 'ratio' | 'level' | 'format';

export interface OptionSpec {
  key: keyof BuildOptions;
  flag: string;
  /** Value placeholder in --help; absent for flags. */
  arg?: string;
  kind: Kind;
  default: number | boolean | string | null;
  /** Default as shown in --help when it differs from the raw value. */
  defaultText?: string;
  help: string;
}

const MiB = 1024 * 1024;

export const BUILD_OPTIONS: readonly OptionSpec[] = [
  { key: 'out', flag: '--out', arg: 'DIR|-', kind: 'string', default: null, defaultText: 'required',
    help: 'output directory (shards + manifest.json, written atomically), or - for batch lines on stdout' },
  { key: 'batchSize', flag: '--batch-size', arg: 'N', kind: 'posint', default: 8,
    help: 'default per-device batch size; symmetric datasets get half of it (rounded down), a dataset\'s batch_size field overrides' },
  { key: 'worldSize', flag: '--world-size', arg: 'N', kind: 'posint', default: 1,
    help: 'number of ranks (devices); a global batch is batch size × world size examples' },
  { key: 'seed', flag: '--seed', arg: 'N', kind: 'int', default: 42,
    help: 'seed of every random choice (shuffles, example cap)' },
  { key: 'epochs', flag: '--epochs', arg: 'N', kind: 'posint', default: 1,
    help: 'epochs to write; each is shuffled anew' },
  { key: 'smallThreshold', flag: '--small-threshold', arg: 'N', kind: 'nonnegint', default: 0,
    help: 'data files with fewer examples are small: merged per (directory, type), or skipped when given as a file argument' },
  { key: 'dropThreshold', flag: '--drop-threshold', arg: 'N', kind: 'nonnegint', default: 0,
    help: 'a merged group of small files with fewer examples is dropped' },
  { key: 'maxExamplesPerDataset', flag: '--max-examples-per-dataset', arg: 'N', kind: 'posint', default: null, defaultText: 'no cap',
    help: 'keep a seeded random subset of N records of each larger data file (the subset depends on that file alone)' },
  { key: 'knowledgeDistillation', flag: '--knowledge-distillation', kind: 'flag', default: false,
    help: 'keep pos_scores/neg_scores (every record must carry both); without it they are removed' },
  { key: 'trainGroupSize', flag: '--train-group-size', arg: 'N', kind: 'posint', default: 8,
    help: 'passages per query the trainer uses (one positive + N-1 sampled negatives); a record\'s train_group_size field overrides. Where negatives will be sampled, every record must have one' },
  { key: 'skipInvalid', flag: '--skip-invalid', kind: 'flag', default: false,
    help: 'skip records that break the rules instead of failing; they are counted per file in the log and the manifest' },
  { key: 'recursive', flag: '--recursive', kind: 'flag', default: false,
    help: 'walk subdirectories of directory arguments; each directory merges only its own small files' },
  { key: 'shardMaxBatches', flag: '--shard-max-batches', arg: 'N', kind: 'nonnegint', default: 0, defaultText: '0 = no cap',
    help: 'start a new shard after this many batches' },
  { key: 'shardMaxBytes', flag: '--shard-max-bytes', arg: 'SIZE', kind: 'bytes', default: 128 * MiB, defaultText: '128MiB',
    help: 'start a new shard before it would exceed SIZE bytes (suffixes K, M, G, KiB, MiB, GiB; 0 = no cap); a batch is never split, so a single larger batch gets a shard of its own' },
  { key: 'force', flag: '--force', kind: 'flag', default: false,
    help: 'replace an earlier samebatch output in --out (a non-empty directory without a samebatch manifest is always refused)' },
  { key: 'ifChanged', flag: '--if-changed', kind: 'flag', default: false,
    help: 'do nothing (exit 0) when --out already holds the output of these inputs (by content) and options; for make and CI caches' },
  { key: 'provenance', flag: '--provenance', kind: 'flag', default: false,
    help: 'add to every batch line a "provenance" list: "path:line" of each example, in example order' },
  { key: 'perRank', flag: '--per-rank', kind: 'flag', default: false,
    help: 'write one directory of shards per rank (rank-00000/, ...): line k is that rank\'s slice of global step k, with the same shard boundaries on every rank' },
  { key: 'format', flag: '--format', arg: 'raw|flag', kind: 'format', default: 'raw',
    help: 'raw: the records themselves; flag: the ready input of FlagEmbedding\'s same-dataset collator (queries, passages, teacher scores, no_in_batch_neg flag)' },
  { key: 'queryInstruction', flag: '--query-instruction', arg: 'TEXT', kind: 'text', default: null, defaultText: 'none',
    help: 'with --format flag: instruction for queries whose record has no "prompt"' },
  { key: 'queryInstructionFormat', flag: '--query-instruction-format', arg: 'FMT', kind: 'template', default: '{}{}',
    help: 'with --format flag: how a query is written; the first {} takes the instruction, the second the query' },
  { key: 'passageInstruction', flag: '--passage-instruction', arg: 'TEXT', kind: 'text', default: null, defaultText: 'none',
    help: 'with --format flag: instruction for passages (symmetric_sts and symmetric_clustering passages take the query\'s instead)' },
  { key: 'passageInstructionFormat', flag: '--passage-instruction-format', arg: 'FMT', kind: 'template', default: '{}{}',
    help: 'with --format flag: how a passage is written; the first {} takes the instruction, the second the passage' },
  { key: 'shuffleRatio', flag: '--shuffle-ratio', arg: 'R', kind: 'ratio', default: 0,
    help: 'with --format flag: probability that a positive longer than 100 characters is cut in three chunks put back in random order (FlagEmbedding\'s augmentation)' },
  { key: 'jobs', flag: '--jobs', arg: 'N', kind: 'posint', default: 0, defaultText: 'available cores',
    help: 'worker threads that read and check records; the output is the same for every N' },
  { key: 'logLevel', flag: '--log-level', arg: 'LEVEL', kind: 'level', default: 'info',
    help: 'log level on stderr: fatal, error, warn, info, debug, silent' },
];

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Parses "128MiB", "64M", "1G", "4096" to bytes (K/M/G are powers of 1024 as well). */
export function parseByteSize(text: string): number | null {
  const m = /^(\d+)\s*(k|kb|kib|m|mb|mib|g|gb|gib|b)?$/i.exec(text.trim());
  if (!m || m[1] === undefined) return null;
  const n = Number(m[1]);
  const unit = (m[2] ?? 'b').toLowerCase()[0];
  const mult = unit === 'k' ? 1024 : unit === 'm' ? MiB : unit === 'g' ? 1024 * MiB : 1;
  const v = n * mult;
  return Number.isSafeInteger(v) ? v : null;
}

function parseValue(spec: OptionSpec, raw: unknown): number | boolean | string {
  const bad = (rule: string): never => {
    throw new SamebatchError('E_OPTION', `option ${spec.flag}: ${rule}, got ${JSON.stringify(raw)}`);
  };
  switch (spec.kind) {
    case 'flag':
      return raw === true;
    case 'string':
      if (typeof raw !== 'string' || raw === '') bad('must be a non-empty string');
      return raw as string;
    case 'text':
      if (typeof raw !== 'string') bad('must be text');
      return raw as string;
    case 'template':
      if (typeof raw !== 'string' || raw.split('{}').length !== 3) bad('must hold exactly two {} (instruction, then text)');
      return raw as string;
    case 'ratio': {
      const text = String(raw).trim();
      const v = Number(text);
      if (typeof raw === 'boolean' || !/^(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) || v < 0 || v > 1) bad('must be a decimal number from 0 to 1');
      return v;
    }
    case 'format':
      if (raw !== 'raw' && raw !== 'flag') bad('must be raw or flag');
      return raw as string;
    case 'level':
      if (typeof raw !== 'string' || !LEVELS.includes(raw)) bad(`must be one of ${LEVELS.join(', ')}`);
      return raw as string;
    case 'bytes': {
      const v = typeof raw === 'number' ? raw : parseByteSize(String(raw));
      if (v === null || !Number.isSafeInteger(v) || v < 0) bad('must be a byte size such as 64MiB, 1G or 4096');
      return v as number;
    }
    default: {
      const text = String(raw).trim();
      if (!/^-?\d+$/.test(text)) bad('must be a whole number');
      const v = Number(text);
      if (!Number.isSafeInteger(v)) bad('must be a safe integer');
      if (spec.kind === 'posint' && v < 1) bad('must be at least 1');
      if (spec.kind === 'nonnegint' && v < 0) bad('must be 0 or more');
      return v;
    }
  }
}

/** Validates raw option values (from commander or a library caller) and fills in defaults. */
export function resolveOptions(raw: Partial<Record<keyof BuildOptions, unknown>>): BuildOptions {
  const out: Record<string, unknown> = {};
  for (const spec of BUILD_OPTIONS) {
    const value = raw[spec.key];
    if (value === undefined || value === null) {
      if (spec.key === 'out') throw new SamebatchError('E_USAGE', 'option --out DIR|- is required');
      out[spec.key] = spec.key === 'jobs' ? Math.max(1, os.availableParallelism()) : spec.default;
    } else {
      out[spec.key] = parseValue(spec, value);
    }
  }
  const o = out as unknown as BuildOptions;
  if (o.format !== 'flag') {
    // Options that only shape flag-format lines would silently do nothing.
    const given = FLAG_ONLY.filter((k) => raw[k] !== undefined && raw[k] !== null).map((k) => BUILD_OPTIONS.find((s) => s.key === k)?.flag);
    if (given.length > 0) throw new SamebatchError('E_OPTION', `option ${given.join(', ')}: only used with --format flag`);
  }
  return o;
}

/** Options that shape only flag-format lines. */
const FLAG_ONLY: readonly (keyof BuildOptions)[] = ['queryInstruction', 'queryInstructionFormat', 'passageInstruction', 'passageInstructionFormat', 'shuffleRatio'];

/** The options that shape the data (everything but where output goes and how loud the log is). */
export function dataOptions(o: BuildOptions): Record<string, unknown> {
  return {
    batch_size: o.batchSize,
    world_size: o.worldSize,
    seed: o.seed,
    epochs: o.epochs,
    small_threshold: o.smallThreshold,
    drop_threshold: o.dropThreshold,
    max_examples_per_dataset: o.maxExamplesPerDataset,
    knowledge_distillation: o.knowledgeDistillation,
    train_group_size: o.trainGroupSize,
    skip_invalid: o.skipInvalid,
    recursive: o.recursive,
    shard_max_batches: o.shardMaxBatches,
    shard_max_bytes: o.shardMaxBytes,
    provenance: o.provenance,
    per_rank: o.perRank,
    format: o.format,
    ...(o.format === 'flag'
      ? {
          query_instruction: o.queryInstruction,
          query_instruction_format: o.queryInstructionFormat,
          passage_instruction: o.passageInstruction,
          passage_instruction_format: o.passageInstructionFormat,
          shuffle_ratio: o.shuffleRatio,
        }
      : {}),
  };
}

/** `samebatch plan` takes build's options except these (it writes nothing). */
export const NOT_FOR_PLAN: ReadonlySet<keyof BuildOptions> = new Set<keyof BuildOptions>(['out', 'force', 'ifChanged']);

/** Options of `samebatch plan` that build does not have. */
export const PLAN_ONLY_OPTIONS: readonly { key: 'json'; flag: string; help: string }[] = [
  { key: 'json', flag: '--json', help: 'print the plan as one JSON object (schema in the README) instead of tables' },
];

/** `samebatch verify` takes only these of build's options. */
export const FOR_VERIFY: ReadonlySet<keyof BuildOptions> = new Set<keyof BuildOptions>(['logLevel']);
