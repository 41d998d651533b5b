/**
 * The build pipeline, top to bottom: discover → index → cap → group → plan → write → manifest.
 * This is the only file that knows the order of the stages.
 */
import fs from 'node:fs';
import path from 'node:path';
import { capRecords } from './core/cap.js';
import { lineHead } from './core/batch-line.js';
import type { FlagOptions } from './core/flag-format.js';
import { assertGroupNegatives, exampleLocator, groupDatasets, type DatasetInput } from './core/group.js';
import { buildManifest } from './core/manifest.js';
import { assertSomeBatches, countGroup, planEpoch, type GroupCounts } from './core/plan.js';
import { discover } from './io/discover.js';
import { indexFile, type IndexContext } from './io/index-file.js';
import { WorkerPool } from './io/pool.js';
import type { Logger } from './io/log.js';
import { checkOutDir, checkOutOverlap, MANIFEST_FILE, OutDir, ShardWriter, StreamSink, type BatchSink } from './io/output.js';
import { OPEN_FILES_BUDGET, type AssembleTask, type Assembled } from './io/records.js';
import { WorkDir } from './io/work-dir.js';
import { fingerprintChanges, type Fingerprint } from './core/fingerprint.js';
import { fingerprintInputs, readEarlierOutput } from './io/fingerprint.js';
import { dataOptions, type BuildOptions } from './options.js';
import { SamebatchError } from './errors.js';
import type { DataFile, Discovery, FileIndex, Group, Grouping } from './types.js';
import { VERSION } from './version.js';

export interface BuildEnv {
  logger: Logger;
  /** Where `--out -` writes batch lines. */
  stdout: NodeJS.WritableStream;
  /** Aborted by a signal handler: the run stops at the next file or batch and cleans up. */
  signal?: AbortSignal;
  /**
   * Told how far a stage has got, for a progress display: bytes read while indexing (with the
   * records indexed so far), steps while writing.
   */
  onProgress?: (stage: 'index' | 'write', done: number, total: number, records?: number) => void;
}

export interface BuildResult {
  steps: number;
  shards: number;
  manifest: Record<string, unknown>;
  /** True when the reader of standard output went away before the end. */
  stoppedByReader: boolean;
  /** Set when --if-changed found the output up to date and wrote nothing. */
  unchanged?: true;
}

function plural(n: number, word: string): string {
  if (n === 1) return `1 ${word}`;
  return `${n} ${/(s|sh|ch|x)$/.test(word) ? `${word}es` : `${word}s`}`;
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason;
}

export async function build(paths: readonly string[], options: BuildOptions, env: BuildEnv): Promise<BuildResult> {
  const log = env.logger;
  if (options.perRank && options.out === '-') {
    throw new SamebatchError('E_USAGE', '--per-rank writes one directory per rank: give --out DIR, not -');
  }
  if (options.out !== '-') {
    // --if-changed may replace an earlier samebatch output as --force does; anything else is refused as always.
    checkOutDir(options.out, options.force || options.ifChanged);
    checkOutOverlap(options.out, paths);
  } else if (options.ifChanged) {
    throw new SamebatchError('E_USAGE', '--if-changed needs --out DIR: standard output leaves no manifest to compare with next time');
  }

  const discovery = discoverInputs(paths, options, log);
  // The fingerprint hashes the data files' bytes while they are indexed (first, for --if-changed).
  const hashing = new AbortController();
  const stopHashing = (): void => hashing.abort(env.signal?.reason);
  env.signal?.addEventListener('abort', stopHashing, { once: true });
  const fingerprinting = fingerprintInputs(discovery.files, dataOptions(options), VERSION, hashing.signal);
  fingerprinting.catch(() => undefined); // awaited below; a failure elsewhere first must not leave it unhandled

  const work = new WorkDir();
  try {
    if (options.ifChanged) {
      const unchanged = unchangedOutput(options.out, await fingerprinting, log);
      if (unchanged !== null) return unchanged;
    }
    const { indexes, datasets, grouping, counts } = await prepare(discovery, options, env, work);
    const fingerprint = await fingerprinting;

    const outDir = options.out === '-' ? null : new OutDir(options.out, options.force || options.ifChanged);
    const shardWriter = outDir ? new ShardWriter(outDir, options.shardMaxBatches, options.shardMaxBytes, options.perRank ? options.worldSize : null) : null;
    try {
      const sink: BatchSink = shardWriter ?? new StreamSink(env.stdout);
      const { steps, stoppedByReader } = await writeAll(indexes, grouping.groups, counts, options, sink, env);
      const shards = await sink.finish();
      const manifest = buildManifest({
        version: VERSION,
        fingerprint,
        options: dataOptions(options),
        indexes,
        kept: datasets.map((d) => d.kept.length),
        grouping,
        counts,
        passedOver: discovery.passedOver,
        epochs: options.epochs,
        worldSize: options.worldSize,
        format: options.format,
        perRank: options.perRank,
        shards,
      });
      if (outDir) {
        // The manifest comes last; only then does the directory move into place.
        outDir.writeFile(MANIFEST_FILE, `${JSON.stringify(manifest, null, 2)}\n`);
        outDir.commit();
        const bytes = shards.reduce((n, s) => n + s.bytes, 0);
        log.info({ stage: 'write', out: options.out, shards: shards.length, steps, bytes }, `wrote ${plural(steps, 'batch')} in ${plural(shards.length, 'shard')} to ${path.normalize(options.out)}`);
      } else if (stoppedByReader) {
        log.info({ stage: 'write', out: '-', steps }, `standard output closed by its reader after ${plural(steps, 'batch')}`);
      } else {
        log.info({ stage: 'write', out: '-', steps }, `wrote ${plural(steps, 'batch')} to standard output`);
      }
      return { steps, shards: shards.length, manifest, stoppedByReader };
    } finally {
      await shardWriter?.dispose();
      outDir?.abort();
    }
  } finally {
    work.dispose();
    hashing.abort();
    env.signal?.removeEventListener('abort', stopHashing);
  }
}

/** discover: the command-line paths → data files, in a fixed order. */
export function discoverInputs(paths: readonly string[], options: Pick<BuildOptions, 'recursive'>, log: Logger): Discovery {
  const discovery = discover(paths, { recursive: options.recursive });
  log.info({ stage: 'discover', files: discovery.files.length, directories: discovery.directories.length }, `discovered ${plural(discovery.files.length, 'data file')}`);
  for (const p of discovery.passedOver) log.warn({ stage: 'discover', path: p.path, reason: p.reason }, `passed over ${p.path}: ${p.reason}`);
  return discovery;
}

/** Everything the stages before writing produce; `plan` reports it, `build` writes it. */
export interface Prepared {
  indexes: FileIndex[];
  datasets: DatasetInput[];
  grouping: Grouping;
  counts: GroupCounts[];
}

/**
 * index → cap → group → plan counts: every record read and checked, every group formed and
 * counted, nothing written. `work` holds scratch copies the write stage reads from later.
 */
export async function prepare(discovery: Discovery, options: BuildOptions, env: Omit<BuildEnv, 'stdout'>, work: WorkDir): Promise<Prepared> {
  const log = env.logger;
  const indexes = await indexAll(discovery.files, options, env, work);
  const datasets = capAll(indexes, options, log);
  const grouping = groupAll(datasets, options, log);
  assertGroupNegatives(grouping.groups, (i) => ({ path: indexes[i]!.file.path, ...indexes[i]! }), options.trainGroupSize);
  const counts = planAll(grouping.groups, options, log);
  return { indexes, datasets, grouping, counts };
}

/**
 * --if-changed: the earlier output in `out` when its fingerprint is the current one (and its
 * shards are all there), else null after saying why the build goes ahead.
 */
function unchangedOutput(out: string, fingerprint: Fingerprint, log: Logger): BuildResult | null {
  const earlier = readEarlierOutput(out);
  const shown = path.normalize(out);
  if (earlier === null) {
    log.info({ stage: 'if-changed', out }, `no earlier samebatch output in ${shown}: building`);
    return null;
  }
  if (earlier.fingerprint === null) {
    log.info({ stage: 'if-changed', out }, `the earlier output in ${shown} has no fingerprint: rebuilding`);
    return null;
  }
  const changed = fingerprintChanges(earlier.fingerprint, fingerprint);
  if (changed.length > 0) {
    log.info({ stage: 'if-changed', out, changed }, `${changed.join(' and ')} changed since ${shown} was written: rebuilding`);
    return null;
  }
  if (earlier.damaged.length > 0) {
    log.warn({ stage: 'if-changed', out, damaged: earlier.damaged }, `${shown} is damaged (missing or resized: ${earlier.damaged.join(', ')}): rebuilding`);
    return null;
  }
  const m = earlier.manifest;
  const totals = (m.totals ?? {}) as { steps?: unknown };
  const steps = typeof totals.steps === 'number' ? totals.steps : 0;
  const shards = Array.isArray(m.shards) ? m.shards.length : 0;
  log.info({ stage: 'if-changed', out, unchanged: true, steps }, `nothing changed: ${shown} already holds the output of these inputs and options; nothing written`);
  return { steps, shards, manifest: m, stoppedByReader: false, unchanged: true };
}

/** index: every record is read and checked here, before anything is written. */
async function indexAll(files: readonly DataFile[], options: BuildOptions, env: Omit<BuildEnv, 'stdout'>, work: WorkDir): Promise<FileIndex[]> {
  const pool = new WorkerPool(options.jobs);
  const totalBytes = files.reduce((n, f) => n + fileSize(f.absPath), 0);
  let doneBytes = 0;
  let doneRecords = 0;
  const ctx: IndexContext = {
    rules: {
      knowledgeDistillation: options.knowledgeDistillation,
      trainGroupSize: options.trainGroupSize,
      skipInvalid: options.skipInvalid,
    },
    pool,
    work,
    keepLines: options.provenance,
    onBytes: (n, records) => {
      doneBytes += n;
      doneRecords += records;
      env.onProgress?.('index', doneBytes, totalBytes, doneRecords);
    },
  };
  // Several files in flight keep every worker busy when files are small; results are taken in
  // file order, so the first fault reported is the first in input order.
  const window = Math.max(2, options.jobs * 2);
  const inFlight: Promise<{ ix: FileIndex } | { err: unknown }>[] = [];
  const start = (f: DataFile): void => {
    inFlight.push(indexFile(f, ctx).then((ix) => ({ ix }), (err: unknown) => ({ err })));
  };
  const indexes: FileIndex[] = [];
  try {
    let next = 0;
    while (indexes.length < files.length) {
      while (next < files.length && inFlight.length < window) start(files[next++]!);
      const settled = await inFlight.shift()!;
      checkAborted(env.signal);
      if ('err' in settled) throw settled.err;
      const ix = settled.ix;
      if (ix.invalid.count > 0) {
        env.logger.warn(
          { stage: 'index', path: ix.file.path, invalid: ix.invalid.count, codes: ix.invalid.codes, first: ix.invalid.first },
          `skipped ${plural(ix.invalid.count, 'invalid record')} in ${ix.file.path} (first: ${ix.invalid.first[0]})`,
        );
      }
      indexes.push(ix);
    }
  } finally {
    // Let work still in flight settle before the scratch directory goes.
    await Promise.allSettled(inFlight);
    await pool.close();
  }
  const sum = (k: (ix: FileIndex) => number): number => indexes.reduce((n, ix) => n + k(ix), 0);
  const records = sum((ix) => ix.records);
  env.logger.info(
    { stage: 'index', files: indexes.length, records, invalid: sum((ix) => ix.invalid.count), bytes: sum((ix) => ix.bytes), jobs: options.jobs },
    `indexed ${plural(records, 'record')} in ${plural(indexes.length, 'file')}`,
  );
  return indexes;
}

function fileSize(p: string): number {
  try {
    return fs.statSync(p).size;
  } catch {
    return 0;
  }
}

function capAll(indexes: readonly FileIndex[], options: BuildOptions, log: Logger): DatasetInput[] {
  const datasets = indexes.map((ix, fileIndex) => ({
    fileIndex,
    file: ix.file,
    kept: capRecords(ix.records, options.maxExamplesPerDataset, options.seed, ix.file.key),
    type: ix.type,
    batchSizeField: ix.batchSizeField,
    invalid: ix.invalid.count,
  }));
  const capped = datasets.filter((d) => d.kept.length < (indexes[d.fileIndex] as FileIndex).records).length;
  if (capped > 0) {
    log.info({ stage: 'cap', files: capped, max: options.maxExamplesPerDataset }, `capped ${plural(capped, 'file')} at ${options.maxExamplesPerDataset} examples`);
  }
  return datasets;
}

function groupAll(datasets: readonly DatasetInput[], options: BuildOptions, log: Logger): Grouping {
  const grouping = groupDatasets(datasets, {
    batchSize: options.batchSize,
    smallThreshold: options.smallThreshold,
    dropThreshold: options.dropThreshold,
  });
  for (const s of grouping.skipped) log.warn({ stage: 'group', path: s.path, records: s.records, reason: s.reason }, `skipped ${s.path}: ${s.reason}`);
  for (const d of grouping.dropped) log.warn({ stage: 'group', group: d.id, members: d.members, records: d.records, reason: d.reason }, `dropped ${d.id}: ${d.reason}`);
  log.info(
    {
      stage: 'group',
      groups: grouping.groups.length,
      merged: grouping.groups.filter((g) => g.merged).length,
      skipped: grouping.skipped.length,
      dropped: grouping.dropped.length,
    },
    `formed ${plural(grouping.groups.length, 'group')}`,
  );
  return grouping;
}

function planAll(groups: readonly Group[], options: BuildOptions, log: Logger): GroupCounts[] {
  assertSomeBatches(groups, options.worldSize);
  const counts = groups.map((g) => countGroup(g, options.worldSize));
  groups.forEach((g, i) => {
    const c = counts[i] as GroupCounts;
    if (c.batchesPerEpoch === 0) {
      log.warn(
        { stage: 'plan', group: g.id, examples: g.size, global_batch_size: c.globalBatchSize, tail_left_out_per_epoch: c.tailPerEpoch },
        `${g.id}: contributes no batches: its ${g.size} examples do not fill one global batch of ${c.globalBatchSize}`,
      );
    } else if (c.tailPerEpoch > 0) {
      log.warn(
        { stage: 'plan', group: g.id, examples: g.size, global_batch_size: c.globalBatchSize, tail_left_out_per_epoch: c.tailPerEpoch },
        `${g.id}: ${c.tailPerEpoch} of ${g.size} examples left out each epoch as the incomplete tail (global batch ${c.globalBatchSize})`,
      );
    }
  });
  const perEpoch = counts.reduce((n, c) => n + c.batchesPerEpoch, 0);
  log.info({ stage: 'plan', epochs: options.epochs, steps_per_epoch: perEpoch, steps: perEpoch * options.epochs }, `planned ${plural(perEpoch * options.epochs, 'step')}`);
  return counts;
}

/** Lines per assembly task at most, and bytes of records per task at most (whichever comes first). */
const TASK_MAX_LINES = 256;
const TASK_MAX_BYTES = 1 << 20;

/**
 * write: materialises every planned batch as one line, epoch after epoch. Lines are assembled in
 * tasks of consecutive steps on the worker pool (or inline with --jobs 1) and written in step
 * order, so the bytes never depend on --jobs.
 */
async function writeAll(
  indexes: readonly FileIndex[],
  groups: readonly Group[],
  counts: readonly GroupCounts[],
  options: BuildOptions,
  sink: BatchSink,
  env: BuildEnv,
): Promise<{ steps: number; stoppedByReader: boolean }> {
  const total = counts.reduce((n, c) => n + c.batchesPerEpoch, 0) * options.epochs;
  const flag: FlagOptions | null =
    options.format === 'flag'
      ? {
          seed: options.seed,
          knowledgeDistillation: options.knowledgeDistillation,
          trainGroupSize: options.trainGroupSize,
          queryInstruction: options.queryInstruction,
          queryInstructionFormat: options.queryInstructionFormat,
          passageInstruction: options.passageInstruction,
          passageInstructionFormat: options.passageInstructionFormat,
          shuffleRatio: options.shuffleRatio,
        }
      : null;
  const pool = new WorkerPool(options.jobs, {
    readPaths: indexes.map((ix) => ix.readPath),
    fileKeys: indexes.map((ix) => ix.file.key),
    flag,
    // Many threads each keeping many data files open would run into the process's file limit.
    maxOpen: Math.max(4, Math.floor(OPEN_FILES_BUDGET / options.jobs)),
  });
  const locators = groups.map(exampleLocator);
  const ranks = options.perRank ? options.worldSize : 1;
  const rawTail = options.format === 'raw' ? '"examples":[' : '';

  /** Tasks of consecutive steps, in step order; `examples` holds the examples of each output line. */
  function* tasks(): Generator<{ task: AssembleTask; examples: number[] }> {
    let step = 0;
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      const plan = planEpoch(groups, options.worldSize, options.seed, epoch);
      let k = 0;
      while (k < plan.batches.length) {
        const heads: string[] = [];
        const examples: number[] = [];
        const epochs: number[] = [];
        const perBatch: number[] = [];
        const refs: [number, number][] = [];
        let bytes = 0;
        while (k < plan.batches.length && perBatch.length < TASK_MAX_LINES && (perBatch.length === 0 || bytes < TASK_MAX_BYTES)) {
          const batch = plan.batches[k]!;
          const g = groups[batch.group]!;
          const batchRefs = Array.from(batch.examples, locators[batch.group]!);
          const per = batchRefs.length / ranks;
          for (let r = 0; r < ranks; r++) {
            const slice = batchRefs.slice(r * per, (r + 1) * per);
            const provenance = options.provenance ? slice.map(([f, i]) => `${indexes[f]!.file.path}:${indexes[f]!.lines![i]}`) : null;
            const header = { epoch, step, epochStep: k, group: g.id, type: g.type, batchSize: g.batchSize, worldSize: options.worldSize, noInBatchNeg: g.noInBatchNeg };
            heads.push(lineHead(options.perRank ? { ...header, rank: r } : header, provenance) + rawTail);
            examples.push(per);
          }
          epochs.push(epoch);
          perBatch.push(batchRefs.length);
          for (const ref of batchRefs) {
            refs.push(ref);
            bytes += indexes[ref[0]]!.lengths[ref[1]]!;
          }
          k++;
          step++;
        }
        const n = refs.length;
        const task: AssembleTask = {
          format: options.format,
          heads,
          linesPerBatch: ranks,
          epochs: Uint32Array.from(epochs),
          counts: Uint32Array.from(perBatch),
          files: new Uint32Array(n),
          records: new Uint32Array(n),
          offsets: new Float64Array(n),
          lengths: new Uint32Array(n),
          flags: new Uint8Array(n),
        };
        refs.forEach(([f, r], i) => {
          const ix = indexes[f]!;
          task.files[i] = f;
          task.records[i] = r;
          task.offsets[i] = ix.offsets[r]!;
          task.lengths[i] = ix.lengths[r]!;
          task.flags[i] = ix.flags[r]!;
        });
        yield { task, examples };
      }
    }
  }

  const window = Math.max(1, options.jobs * 2);
  const inFlight: { result: Promise<{ ok: Assembled } | { err: unknown }>; examples: number[] }[] = [];
  const source = tasks();
  const refill = (): void => {
    while (inFlight.length < window) {
      const next = source.next();
      if (next.done) return;
      const result = pool.run<Assembled>({ kind: 'assemble', ...next.value.task }).then(
        (ok) => ({ ok }),
        (err: unknown) => ({ err }),
      );
      inFlight.push({ result, examples: next.value.examples });
    }
  };
  let step = 0;
  try {
    refill();
    while (inFlight.length > 0) {
      const { result, examples } = inFlight.shift()!;
      const settled = await result;
      checkAborted(env.signal);
      if ('err' in settled) throw readFailure(settled.err);
      refill();
      const { data, lineLengths } = settled.ok;
      let at = 0;
      for (let l = 0; l < lineLengths.length; l += ranks) {
        const lines: Buffer[] = [];
        for (let r = 0; r < ranks; r++) {
          const len = lineLengths[l + r]!;
          lines.push(Buffer.from(data.buffer, data.byteOffset + at, len));
          at += len;
        }
        if (!(await sink.write(lines, examples.slice(l, l + ranks)))) return { steps: step, stoppedByReader: true };
        step++;
      }
      env.onProgress?.('write', step, total);
      // Inline assembly (--jobs 1) never leaves the microtask queue: let signal handlers run.
      await new Promise((resolve) => setImmediate(resolve));
    }
    return { steps: step, stoppedByReader: false };
  } finally {
    await Promise.allSettled(inFlight.map((f) => f.result));
    await pool.close();
  }
}

function readFailure(err: unknown): unknown {
  if (err instanceof SamebatchError) return err;
  const e = err as NodeJS.ErrnoException;
  return new SamebatchError('E_READ', `cannot read a record while writing batches: ${e.message}`, { cause: err });
}
