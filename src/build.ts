/**
 * The build pipeline, top to bottom: discover → index → cap → group → plan → write → manifest.
 * This is the only file that knows the order of the stages.
 */
import path from 'node:path';
import { capRecords } from './core/cap.js';
import { batchLineParts } from './core/batch-line.js';
import { exampleLocator, groupDatasets, type DatasetInput } from './core/group.js';
import { buildManifest } from './core/manifest.js';
import { assertSomeBatches, countGroup, planEpoch } from './core/plan.js';
import { discover } from './io/discover.js';
import { indexFile } from './io/index-file.js';
import type { Logger } from './io/log.js';
import { checkOutDir, MANIFEST_FILE, OutDir, ShardWriter, StreamSink, type BatchSink } from './io/output.js';
import { RecordReader } from './io/records.js';
import { dataOptions, type BuildOptions } from './options.js';
import type { FileIndex, Group } from './types.js';
import { VERSION } from './version.js';

export interface BuildEnv {
  logger: Logger;
  /** Where `--out -` writes batch lines. */
  stdout: NodeJS.WritableStream;
  /** Set by a signal handler to stop the run between batches. */
  signal?: AbortSignal;
}

export interface BuildResult {
  steps: number;
  shards: number;
  manifest: Record<string, unknown>;
  /** True when the reader of standard output went away before the end. */
  stoppedByReader: boolean;
}

function plural(n: number, word: string): string {
  if (n === 1) return `1 ${word}`;
  return `${n} ${/(s|sh|ch|x)$/.test(word) ? `${word}es` : `${word}s`}`;
}

export async function build(paths: readonly string[], options: BuildOptions, env: BuildEnv): Promise<BuildResult> {
  const log = env.logger;
  const toStdout = options.out === '-';
  if (!toStdout) checkOutDir(options.out, options.force);

  // discover
  const discovery = discover(paths, { recursive: options.recursive });
  log.info({ stage: 'discover', files: discovery.files.length, directories: discovery.directories.length }, `discovered ${plural(discovery.files.length, 'data file')}`);
  for (const p of discovery.passedOver) log.warn({ stage: 'discover', path: p.path, reason: p.reason }, `passed over ${p.path}: ${p.reason}`);

  // index (every record is checked here, before anything is written)
  const rules = { knowledgeDistillation: options.knowledgeDistillation };
  const indexes: FileIndex[] = discovery.files.map((f) => indexFile(f, rules));
  const bytes = indexes.reduce((n, ix) => n + ix.bytes, 0);
  const records = indexes.reduce((n, ix) => n + ix.records, 0);
  log.info({ stage: 'index', files: indexes.length, records, bytes }, `indexed ${plural(records, 'record')} in ${plural(indexes.length, 'file')}`);

  // cap
  const datasets: DatasetInput[] = indexes.map((ix, fileIndex) => ({
    fileIndex,
    file: ix.file,
    kept: capRecords(ix.records, options.maxExamplesPerDataset, options.seed, ix.file.id),
    type: ix.type,
    batchSizeField: ix.batchSizeField,
  }));
  const capped = datasets.filter((d) => d.kept.length < (indexes[d.fileIndex] as FileIndex).records);
  if (capped.length > 0) {
    log.info({ stage: 'cap', files: capped.length, max: options.maxExamplesPerDataset }, `capped ${plural(capped.length, 'file')} at ${options.maxExamplesPerDataset} examples`);
  }

  // group
  const grouping = groupDatasets(datasets, {
    batchSize: options.batchSize,
    smallThreshold: options.smallThreshold,
    dropThreshold: options.dropThreshold,
  });
  for (const s of grouping.skipped) log.warn({ stage: 'group', path: s.path, records: s.records, reason: s.reason }, `skipped ${s.path}: ${s.reason}`);
  for (const d of grouping.dropped) log.warn({ stage: 'group', group: d.id, members: d.members, records: d.records, reason: d.reason }, `dropped ${d.id}: ${d.reason}`);
  log.info(
    { stage: 'group', groups: grouping.groups.length, merged: grouping.groups.filter((g) => g.merged).length, skipped: grouping.skipped.length, dropped: grouping.dropped.length },
    `formed ${plural(grouping.groups.length, 'group')}`,
  );

  // plan
  const groups: Group[] = grouping.groups;
  assertSomeBatches(groups, options.worldSize);
  const counts = groups.map((g) => countGroup(g, options.worldSize));
  const stepsPerEpoch = counts.reduce((n, c) => n + c.batchesPerEpoch, 0);
  groups.forEach((g, i) => {
    const c = counts[i];
    if (c && c.tailPerEpoch > 0) {
      log.warn(
        { stage: 'plan', group: g.id, examples: g.size, global_batch_size: c.globalBatchSize, tail_left_out_per_epoch: c.tailPerEpoch },
        `${g.id}: ${c.tailPerEpoch} of ${g.size} examples left out each epoch as the incomplete tail (global batch ${c.globalBatchSize})`,
      );
    }
  });
  log.info({ stage: 'plan', epochs: options.epochs, steps_per_epoch: stepsPerEpoch, steps: stepsPerEpoch * options.epochs }, `planned ${plural(stepsPerEpoch * options.epochs, 'step')}`);

  // write
  const outDir = toStdout ? null : new OutDir(options.out);
  const shardWriter = outDir ? new ShardWriter(outDir.tmp, options.shardMaxBatches, options.shardMaxBytes) : null;
  const sink: BatchSink = shardWriter ?? new StreamSink(env.stdout);
  const reader = new RecordReader(indexes);
  const locators = groups.map(exampleLocator);
  const comma = Buffer.from(',');
  let step = 0;
  let stoppedByReader = false;
  try {
    epochs: for (let epoch = 0; epoch < options.epochs; epoch++) {
      const plan = planEpoch(groups, options.worldSize, options.seed, epoch);
      for (let k = 0; k < plan.batches.length; k++) {
        if (env.signal?.aborted) throw env.signal.reason;
        const batch = plan.batches[k]!;
        const g = groups[batch.group]!;
        const locate = locators[batch.group]!;
        const refs = Array.from(batch.examples, locate);
        const provenance = options.provenance
          ? refs.map(([f, r]) => `${(indexes[f] as FileIndex).file.path}:${(indexes[f] as FileIndex).lines[r]}`)
          : null;
        const { head, tail } = batchLineParts(
          { epoch, step, epochStep: k, group: g.id, type: g.type, batchSize: g.batchSize, worldSize: options.worldSize, noInBatchNeg: g.noInBatchNeg },
          provenance,
        );
        const parts: Buffer[] = [Buffer.from(head)];
        refs.forEach(([f, r], i) => {
          if (i > 0) parts.push(comma);
          parts.push(reader.read(f, r));
        });
        parts.push(Buffer.from(tail));
        if (!(await sink.write(Buffer.concat(parts), refs.length))) {
          stoppedByReader = true;
          break epochs;
        }
        step++;
      }
    }
    const shards = await sink.finish();
    const manifest = buildManifest({
      version: VERSION,
      options: dataOptions(options),
      indexes,
      kept: datasets.map((d) => d.kept.length),
      grouping,
      counts,
      passedOver: discovery.passedOver,
      epochs: options.epochs,
      worldSize: options.worldSize,
      shards,
    });
    if (outDir) {
      outDir.writeFile(MANIFEST_FILE, `${JSON.stringify(manifest, null, 2)}\n`);
      outDir.commit();
      log.info({ stage: 'write', out: options.out, shards: shards.length, steps: step, bytes: shards.reduce((n, s) => n + s.bytes, 0) }, `wrote ${plural(step, 'batch')} in ${plural(shards.length, 'shard')} to ${path.normalize(options.out)}`);
    } else if (stoppedByReader) {
      log.info({ stage: 'write', out: '-', steps: step }, `standard output closed by its reader after ${plural(step, 'batch')}`);
    } else {
      log.info({ stage: 'write', out: '-', steps: step }, `wrote ${plural(step, 'batch')} to standard output`);
    }
    return { steps: step, shards: shards.length, manifest, stoppedByReader };
  } finally {
    reader.close();
    shardWriter?.dispose();
    outDir?.abort();
  }
}
