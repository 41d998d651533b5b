/**
 * Verification of an output directory against its manifest. Pure: the io layer streams the
 * shards and hands over, step by step, the parsed line of every shard sequence (one sequence for
 * the global layout, one per rank for per-rank output) plus each shard's byte tally; this module
 * knows the rules and throws E_VERIFY naming the first `shard:line` that breaks one.
 *
 * Rules come in layers, so a layout or line format this version does not know yet is still
 * checked as far as it can be:
 *   1. the manifest itself: shard receipts, step numbering, group arithmetic, totals;
 *   2. every shard: bytes, sha256, line count, each line one JSON object with the right step;
 *   3. header fields of known line layouts (global, per-rank): epoch, group, type, sizes, flags;
 *   4. the payload of known formats (raw): examples, their type, provenance, none twice an epoch.
 * A new format adds a payload checker to PAYLOADS; a new layout, a case in readVerifyModel.
 */
import { createHash } from 'node:crypto';
import { SamebatchError } from '../errors.js';

/** A line in a shard: the shard as shown to people and the 1-based line number. */
export interface Where {
  file: string;
  line: number;
}

export function verifyFailure(where: Where | string, rule: string): SamebatchError {
  if (typeof where === 'string') return new SamebatchError('E_VERIFY', `${where}: ${rule}`, { location: { file: where } });
  return new SamebatchError('E_VERIFY', `${where.file}:${where.line}: ${rule}`, { location: { file: where.file, line: where.line } });
}

export interface ShardEntry {
  /** Path inside the output directory, as the manifest lists it. */
  file: string;
  rank: number | null;
  first_step: number;
  batches: number;
  examples: number;
  bytes: number;
  sha256: string;
}

export interface GroupView {
  id: string;
  type: string | null;
  batchSize: number;
  batchesPerEpoch: number;
  noInBatchNeg: boolean;
  members: ReadonlySet<string>;
}

export interface InputView {
  /** Size as stored; a bound on line numbers only for uncompressed files. */
  bytes: number;
  compressed: boolean;
  kept: number;
}

export type LineLayout = 'global' | 'per-rank';

export interface VerifyModel {
  format: string;
  layout: string;
  /** Shard sequences read in lockstep: one (global layout) or one per rank, each in manifest order. */
  sequences: ShardEntry[][];
  epochs: number;
  worldSize: number;
  stepsPerEpoch: number;
  steps: number;
  groups: ReadonlyMap<string, GroupView>;
  inputs: ReadonlyMap<string, InputView>;
  /** null when the manifest does not say (then both are accepted). */
  provenance: boolean | null;
  knowledgeDistillation: boolean | null;
  /** Whether header fields (layer 3) and the payload (layer 4) are checked. */
  checksHeader: boolean;
  checksPayload: boolean;
  /** What this verify could not check, for the summary. */
  notes: string[];
}

// ---------------------------------------------------------------------------------------------
// layer 1: the manifest

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Layouts and formats whose lines this verify knows (layers 3 and 4). */
const KNOWN_LAYOUTS: ReadonlySet<string> = new Set(['global', 'per-rank']);
const PAYLOAD_FORMATS: ReadonlySet<string> = new Set(['raw']);
const HEADER_FORMATS: ReadonlySet<string> = new Set(['raw', 'flag']);

/**
 * Reads and checks the manifest (layer 1). `shown` names it in messages. Throws E_VERIFY for a
 * manifest that is not samebatch's, or whose numbers do not add up.
 */
export function readVerifyModel(manifest: unknown, shown: string): VerifyModel {
  const fail = (rule: string): never => {
    throw verifyFailure(shown, rule);
  };
  if (!isObject(manifest)) return fail('is not a JSON object');
  if (manifest.tool !== 'samebatch') fail(`"tool" is ${JSON.stringify(manifest.tool)}, not "samebatch": not a samebatch output`);
  if (manifest.format !== 1) fail(`manifest format ${JSON.stringify(manifest.format)} is not known to this samebatch (it reads format 1)`);
  const options = isObject(manifest.options) ? manifest.options : {};
  const layoutObj = isObject(manifest.layout) ? manifest.layout : {};
  const format = typeof layoutObj.format === 'string' ? layoutObj.format : typeof options.format === 'string' ? options.format : 'raw';
  const layout =
    typeof layoutObj.ranks === 'string' ? layoutObj.ranks : options.per_rank === true ? 'per-rank' : options.per_rank === false || options.per_rank === undefined ? 'global' : 'unknown';

  const totals = isObject(manifest.totals) ? manifest.totals : fail('has no "totals" object');
  const count = (obj: Json, key: string, where: string): number => {
    const v = obj[key];
    return isCount(v) ? v : fail(`${where}.${key} is ${JSON.stringify(v)}, not a count`);
  };
  const epochs = count(totals, 'epochs', 'totals');
  const worldSize = count(totals, 'world_size', 'totals');
  const stepsPerEpoch = count(totals, 'steps_per_epoch', 'totals');
  const steps = count(totals, 'steps', 'totals');
  if (worldSize < 1) fail('totals.world_size is 0');
  if (steps !== stepsPerEpoch * epochs) fail(`totals.steps is ${steps}, but steps_per_epoch × epochs is ${stepsPerEpoch} × ${epochs} = ${stepsPerEpoch * epochs}`);

  // groups: the arithmetic of each, and their batches add up to the steps of an epoch
  if (!Array.isArray(manifest.groups)) fail('has no "groups" list');
  const groups = new Map<string, GroupView>();
  let batchesPerEpoch = 0;
  let examplesPerEpoch = 0;
  let tails = 0;
  (manifest.groups as unknown[]).forEach((g, i) => {
    const at = `groups[${i}]`;
    if (!isObject(g) || typeof g.id !== 'string') return fail(`${at} has no "id"`);
    if (groups.has(g.id)) fail(`${at}: group ${JSON.stringify(g.id)} is listed twice`);
    const examples = count(g, 'examples', at);
    const b = count(g, 'batch_size', at);
    const global = count(g, 'global_batch_size', at);
    const batches = count(g, 'batches_per_epoch', at);
    const tail = count(g, 'tail_left_out_per_epoch', at);
    if (b < 1) fail(`${at}.batch_size is 0`);
    if (global !== b * worldSize) fail(`${at} (${g.id}): global_batch_size ${global} is not batch_size × world_size = ${b} × ${worldSize}`);
    if (batches !== Math.floor(examples / global) || tail !== examples - batches * global) {
      fail(`${at} (${g.id}): ${examples} examples in global batches of ${global} make ${Math.floor(examples / global)} batches and a tail of ${examples % global}, not ${batches} and ${tail}`);
    }
    if (g.type !== null && typeof g.type !== 'string') fail(`${at}.type is neither a string nor null`);
    if (typeof g.no_in_batch_neg !== 'boolean') fail(`${at}.no_in_batch_neg is not true or false`);
    const members = Array.isArray(g.members) ? g.members.filter((m): m is string => typeof m === 'string') : [];
    groups.set(g.id, { id: g.id, type: (g.type as string | null) ?? null, batchSize: b, batchesPerEpoch: batches, noInBatchNeg: g.no_in_batch_neg as boolean, members: new Set(members) });
    batchesPerEpoch += batches;
    examplesPerEpoch += batches * global;
    tails += tail;
  });
  if (batchesPerEpoch !== stepsPerEpoch) fail(`the groups' batches_per_epoch add up to ${batchesPerEpoch}, but totals.steps_per_epoch is ${stepsPerEpoch}`);
  if (totals.examples_per_epoch !== undefined && totals.examples_per_epoch !== examplesPerEpoch) {
    fail(`totals.examples_per_epoch is ${JSON.stringify(totals.examples_per_epoch)}, but the groups' batches hold ${examplesPerEpoch}`);
  }
  if (totals.tail_left_out_per_epoch !== undefined && totals.tail_left_out_per_epoch !== tails) {
    fail(`totals.tail_left_out_per_epoch is ${JSON.stringify(totals.tail_left_out_per_epoch)}, but the groups' tails add up to ${tails}`);
  }

  const inputs = new Map<string, InputView>();
  if (Array.isArray(manifest.inputs)) {
    for (const inp of manifest.inputs as unknown[]) {
      if (!isObject(inp) || typeof inp.path !== 'string') continue;
      inputs.set(inp.path, {
        bytes: isCount(inp.bytes) ? inp.bytes : Number.MAX_SAFE_INTEGER,
        compressed: inp.path.endsWith('.gz'),
        kept: isCount(inp.kept) ? inp.kept : isCount(inp.records) ? inp.records : Number.MAX_SAFE_INTEGER,
      });
    }
  }

  // shards: well-formed receipts, each sequence numbered from step 0 without gaps
  if (!Array.isArray(manifest.shards)) fail('has no "shards" list');
  const seen = new Set<string>();
  const byRank = new Map<number | null, ShardEntry[]>();
  (manifest.shards as unknown[]).forEach((s, i) => {
    const at = `shards[${i}]`;
    if (!isObject(s) || typeof s.file !== 'string' || s.file === '') return fail(`${at} has no "file"`);
    const file = s.file;
    if (file.startsWith('/') || file.includes('\\') || file.split('/').some((part) => part === '..' || part === '.' || part === '')) {
      fail(`${at}.file ${JSON.stringify(file)} is not a plain path inside the output directory`);
    }
    if (seen.has(file)) fail(`${at}: shard ${file} is listed twice`);
    seen.add(file);
    const rank = s.rank === undefined || s.rank === null ? null : isCount(s.rank) && s.rank < worldSize ? s.rank : fail(`${at}.rank ${JSON.stringify(s.rank)} is not a rank below world_size ${worldSize}`);
    if (typeof s.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(s.sha256)) fail(`${at}.sha256 is not 64 hex digits`);
    const entry: ShardEntry = {
      file,
      rank,
      first_step: count(s, 'first_step', at),
      batches: count(s, 'batches', at),
      examples: count(s, 'examples', at),
      bytes: count(s, 'bytes', at),
      sha256: s.sha256 as string,
    };
    const list = byRank.get(rank);
    if (list) list.push(entry);
    else byRank.set(rank, [entry]);
  });
  if (byRank.has(null) && byRank.size > 1) fail('lists shards both with and without a "rank"');
  const ranks = [...byRank.keys()];
  if (layout === 'per-rank') {
    const missing = Array.from({ length: worldSize }, (_, r) => r).filter((r) => !byRank.has(r));
    if (steps > 0 && missing.length > 0) fail(`per-rank output without shards for rank ${missing.join(', ')}`);
  } else if (layout === 'global' && ranks.some((r) => r !== null)) {
    fail('global layout, but shards carry a "rank"');
  }
  const sequences = [...byRank.entries()].sort(([a], [b]) => (a ?? 0) - (b ?? 0)).map(([, list]) => list);
  for (const seq of sequences) {
    let next = 0;
    for (const s of seq) {
      if (s.first_step !== next) fail(`shard ${s.file}: first_step is ${s.first_step}, but the shards before it hold ${next} steps`);
      next += s.batches;
    }
    if (next !== steps) fail(`the shards${seq[0]?.rank === null || seq[0] === undefined ? '' : ` of rank ${seq[0].rank}`} hold ${next} batches, but totals.steps is ${steps}`);
  }
  if (sequences.length === 0 && steps !== 0) fail(`lists no shards, but totals.steps is ${steps}`);

  const notes: string[] = [];
  const checksHeader = KNOWN_LAYOUTS.has(layout) && HEADER_FORMATS.has(format);
  const checksPayload = checksHeader && PAYLOAD_FORMATS.has(format);
  if (!KNOWN_LAYOUTS.has(layout)) notes.push(`line contents not checked: layout "${layout}" is not known to this verify`);
  else if (!HEADER_FORMATS.has(format)) notes.push(`line contents not checked: format "${format}" is not known to this verify`);
  else if (!checksPayload) notes.push(`example-level checks (types, provenance, no example twice an epoch) skipped: not known for format "${format}"`);

  return {
    format,
    layout,
    sequences,
    epochs,
    worldSize,
    stepsPerEpoch,
    steps,
    groups,
    inputs,
    provenance: typeof options.provenance === 'boolean' ? options.provenance : null,
    knowledgeDistillation: typeof options.knowledge_distillation === 'boolean' ? options.knowledge_distillation : null,
    checksHeader,
    checksPayload,
    notes,
  };
}

// ---------------------------------------------------------------------------------------------
// layer 2: each shard's receipt

export interface ShardTally {
  lines: number;
  bytes: number;
  sha256: string;
  /** Examples counted from the lines, or null when the line format does not tell. */
  examples: number | null;
}

/** Compares what was read with the shard's receipt; `shown` names the shard. */
export function checkShardTally(s: ShardEntry, t: ShardTally, shown: string): void {
  if (t.lines !== s.batches) {
    const how = t.lines < s.batches ? 'truncated, or lines deleted' : 'lines added';
    throw verifyFailure(shown, `holds ${t.lines} lines, but the manifest lists ${s.batches} batches (${how})`);
  }
  if (t.examples !== null && t.examples !== s.examples) throw verifyFailure(shown, `holds ${t.examples} examples, but the manifest lists ${s.examples}`);
  if (t.bytes !== s.bytes) throw verifyFailure(shown, `is ${t.bytes} bytes, but the manifest lists ${s.bytes} (edited or truncated)`);
  if (t.sha256 !== s.sha256) throw verifyFailure(shown, `sha256 is ${t.sha256}, but the manifest lists ${s.sha256}: the shard (or its receipt in the manifest) changed after it was written`);
}

// ---------------------------------------------------------------------------------------------
// layers 2-4: the lines of each step

export interface StepLine {
  value: unknown;
  where: Where;
}

function describe(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 59)}…` : s;
}

/** Key of an example for "no example twice an epoch": its provenance, or its group and JSON text. */
function exampleKey(group: string, example: unknown): string {
  return `${group}\u0000${createHash('sha256').update(JSON.stringify(example)).digest('base64').slice(0, 22)}`;
}

const PROVENANCE = /^(.*):([1-9][0-9]*)$/s;

/**
 * Checks the lines step after step. Call `step` with the line of every sequence for one step
 * (in rank order), then `finish` after the last.
 */
export class StepChecker {
  private step = 0;
  private epoch = -1;
  /** Example key → the step it was first seen at, this epoch. */
  private seen = new Map<string, number>();
  private groupBatches = new Map<string, number>();
  private fileExamples = new Map<string, number>();

  constructor(private readonly m: VerifyModel) {}

  /** Checks one step; returns the examples each line holds (null when the format does not tell). */
  checkStep(lines: readonly StepLine[]): (number | null)[] {
    const m = this.m;
    const step = this.step++;
    const epoch = m.stepsPerEpoch === 0 ? 0 : Math.floor(step / m.stepsPerEpoch);
    if (epoch !== this.epoch) {
      this.epoch = epoch;
      this.seen = new Map();
      this.groupBatches = new Map();
      this.fileExamples = new Map();
    }
    const out: (number | null)[] = [];
    for (const [r, l] of lines.entries()) {
      const v = l.value;
      if (!isObject(v)) throw verifyFailure(l.where, `the line is ${describe(v)}, not a JSON object`);
      // Layer 2: every samebatch line of every layout carries its step.
      if (v.step !== undefined && v.step !== step) {
        throw verifyFailure(l.where, `step is ${describe(v.step)}, expected ${step} (line k of the shards, in manifest order, is step k): a line is missing, added or out of order`);
      }
      out.push(m.checksHeader ? this.checkHeader(v, l.where, r) : null);
    }
    if (m.checksHeader) this.checkSameStep(lines, step);
    return out;
  }

  /** Layer 3: the header of one line. Returns the examples the line holds. */
  private checkHeader(v: Json, where: Where, rank: number): number {
    const m = this.m;
    const step = this.step - 1;
    const bad = (rule: string): never => {
      throw verifyFailure(where, rule);
    };
    if (v.step === undefined) bad('has no "step"');
    if (step >= m.steps) bad(`step ${step} is beyond the manifest's ${m.steps} steps`);
    const epoch = Math.floor(step / m.stepsPerEpoch);
    if (v.epoch !== epoch) bad(`epoch is ${describe(v.epoch)}, but step ${step} at ${m.stepsPerEpoch} steps per epoch is in epoch ${epoch}`);
    if (v.epoch_step !== step % m.stepsPerEpoch) bad(`epoch_step is ${describe(v.epoch_step)}, expected ${step % m.stepsPerEpoch}`);
    if (typeof v.group !== 'string') return bad(`"group" is ${describe(v.group)}, not a group id`);
    const g = m.groups.get(v.group);
    if (g === undefined) return bad(`group ${JSON.stringify(v.group)} is not in the manifest`);
    if (v.type !== g.type) bad(`type is ${describe(v.type)}, but group ${g.id} has type ${describe(g.type)}`);
    if (v.batch_size !== g.batchSize) bad(`batch_size is ${describe(v.batch_size)}, but group ${g.id} has batch_size ${g.batchSize}`);
    if (v.world_size !== m.worldSize) bad(`world_size is ${describe(v.world_size)}, but the manifest says ${m.worldSize}`);
    if (v.no_in_batch_neg !== g.noInBatchNeg) bad(`no_in_batch_neg is ${describe(v.no_in_batch_neg)}, but group ${g.id} has ${g.noInBatchNeg}`);
    if (m.layout === 'per-rank') {
      if (v.rank !== rank) bad(`rank is ${describe(v.rank)}, but the line is in a shard of rank ${rank}`);
    } else if (v.rank !== undefined) {
      bad('a line of the global layout carries a "rank"');
    }
    // Counted once per step (on rank 0's line); with contiguous steps, at most batches_per_epoch
    // of every group means exactly that many.
    if (rank === 0) {
      const n = (this.groupBatches.get(g.id) ?? 0) + 1;
      if (n > g.batchesPerEpoch) bad(`epoch ${epoch} holds more than the ${g.batchesPerEpoch} batches of group ${g.id} the manifest lists`);
      this.groupBatches.set(g.id, n);
    }
    const size = m.layout === 'per-rank' ? g.batchSize : g.batchSize * m.worldSize;
    if (m.checksPayload) this.checkExamples(v, where, g, size);
    return size;
  }

  /** Layer 4 (raw format): the examples of one line. */
  private checkExamples(v: Json, where: Where, g: GroupView, size: number): void {
    const m = this.m;
    const step = this.step - 1;
    const bad = (rule: string): never => {
      throw verifyFailure(where, rule);
    };
    const examples = v.examples;
    if (!Array.isArray(examples)) return bad(`"examples" is ${describe(examples)}, not a list`);
    const expectedSize = m.layout === 'per-rank' ? `batch_size ${g.batchSize} (one rank slice)` : `batch_size × world_size = ${g.batchSize} × ${m.worldSize}`;
    if (examples.length !== size) bad(`holds ${examples.length} examples, but group ${g.id} takes ${expectedSize}`);
    const provenance = v.provenance;
    if (m.provenance === true && provenance === undefined) bad('has no "provenance", but the run was made with --provenance');
    if (m.provenance === false && provenance !== undefined) bad('has a "provenance", but the run was made without --provenance');
    if (provenance !== undefined && (!Array.isArray(provenance) || provenance.length !== examples.length || provenance.some((p) => typeof p !== 'string'))) {
      bad(`"provenance" must list one "path:line" per example (${examples.length})`);
    }
    const epoch = this.epoch;
    examples.forEach((ex, i) => {
      const what = `example ${i + 1}`;
      if (!isObject(ex)) bad(`${what} is ${describe(ex)}, not a record`);
      const ownType = (ex as Json).type;
      if (ownType !== undefined && ownType !== null && ownType !== v.type) bad(`${what} has type ${describe(ownType)}, but the line is of type ${describe(v.type)}: one batch, one type`);
      if (m.knowledgeDistillation === false && (((ex as Json).pos_scores ?? null) !== null || ((ex as Json).neg_scores ?? null) !== null)) {
        bad(`${what} carries teacher scores, but the run was made without --knowledge-distillation`);
      }
      let key: string;
      const p = (provenance as string[] | undefined)?.[i];
      if (p !== undefined) {
        const match = PROVENANCE.exec(p);
        const file = match?.[1];
        const line = Number(match?.[2]);
        if (match === null || file === undefined) return bad(`provenance ${JSON.stringify(p)} of ${what} is not "path:line"`);
        if (!g.members.has(file)) bad(`provenance ${p} of ${what}: ${file} is not a member of group ${g.id}`);
        const input = m.inputs.get(file);
        if (input !== undefined && !input.compressed && line > input.bytes) bad(`provenance ${p} of ${what}: line ${line} is past the end of ${file} (${input.bytes} bytes)`);
        const fromFile = (this.fileExamples.get(file) ?? 0) + 1;
        if (input !== undefined && fromFile > input.kept) bad(`epoch ${epoch} holds more examples from ${file} than the ${input.kept} it kept`);
        this.fileExamples.set(file, fromFile);
        key = p;
      } else {
        key = exampleKey(g.id, ex);
      }
      const first = this.seen.get(key);
      if (first !== undefined) {
        const how = p !== undefined ? `(${p})` : '(same JSON text; if the data files hold duplicate records, build with --provenance to tell them apart)';
        bad(`${what} appears twice in epoch ${epoch}: it is in step ${first} too ${how}`);
      }
      this.seen.set(key, step);
    });
  }

  /** Layer 3 across ranks: every rank's line of a step belongs to the same global batch. */
  private checkSameStep(lines: readonly StepLine[], step: number): void {
    const first = lines[0]?.value as Json | undefined;
    for (const l of lines.slice(1)) {
      const v = l.value as Json;
      if (v.group !== first?.group || v.epoch !== first?.epoch) {
        throw verifyFailure(l.where, `step ${step} is a batch of ${describe(v.group)} here, but of ${describe(first?.group)} on rank 0: the ranks disagree`);
      }
    }
  }

  /** After the last step: the shards held every step of the manifest. */
  finish(shown: string): void {
    if (this.step !== this.m.steps) throw verifyFailure(shown, `the shards hold ${this.step} steps, but totals.steps is ${this.m.steps}`);
  }

  get steps(): number {
    return this.step;
  }
}
