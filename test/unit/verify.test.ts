import { describe, expect, it } from 'vitest';
import { checkShardTally, readVerifyModel, StepChecker, type StepLine } from '../../src/core/verify.js';
import { SamebatchError } from '../../src/errors.js';

/**
 * Two groups at world size 1: g1 (4 examples, batch 2 → 2 batches) and g2 (3 examples, batch 1 →
 * 3 batches): 5 steps per epoch, 1 epoch, in two shards of 3 and 2.
 */
function manifest(): any {
  return {
    tool: 'samebatch',
    format: 1,
    options: { provenance: false, knowledge_distillation: false },
    layout: { format: 'raw', ranks: 'global' },
    totals: { epochs: 1, world_size: 1, steps_per_epoch: 5, steps: 5, examples_per_epoch: 7, tail_left_out_per_epoch: 0 },
    inputs: [],
    groups: [
      { id: 'g1', members: ['g1.jsonl'], examples: 4, type: 'normal', no_in_batch_neg: false, batch_size: 2, global_batch_size: 2, batches_per_epoch: 2, tail_left_out_per_epoch: 0 },
      { id: 'g2', members: ['g2.jsonl'], examples: 3, type: null, no_in_batch_neg: true, batch_size: 1, global_batch_size: 1, batches_per_epoch: 3, tail_left_out_per_epoch: 0 },
    ],
    shards: [
      { file: 'batches-00000.jsonl', first_step: 0, batches: 3, examples: 5, bytes: 1, sha256: 'a'.repeat(64) },
      { file: 'batches-00001.jsonl', first_step: 3, batches: 2, examples: 2, bytes: 1, sha256: 'b'.repeat(64) },
    ],
  };
}

function line(step: number, group: 'g1' | 'g2', examples: unknown[]): StepLine {
  const g1 = group === 'g1';
  return {
    value: { epoch: 0, step, epoch_step: step, group, type: g1 ? 'normal' : null, batch_size: g1 ? 2 : 1, world_size: 1, no_in_batch_neg: !g1, examples },
    where: { file: 'out/batches.jsonl', line: step + 1 },
  };
}

const GOOD: StepLine[] = [
  line(0, 'g1', [{ query: 'a' }, { query: 'b', type: 'normal' }]),
  line(1, 'g2', [{ query: 'x' }]),
  line(2, 'g2', [{ query: 'y' }]),
  line(3, 'g1', [{ query: 'c' }, { query: 'd' }]),
  line(4, 'g2', [{ query: 'z' }]),
];

function message(f: () => void): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(SamebatchError);
    expect((err as SamebatchError).code).toBe('E_VERIFY');
    return (err as Error).message;
  }
  throw new Error('expected a failure');
}

function runAll(lines: readonly StepLine[], m = manifest()): void {
  const checker = new StepChecker(readVerifyModel(m, 'out/manifest.json'));
  for (const l of lines) checker.checkStep([l]);
  checker.finish('out/manifest.json');
}

describe('readVerifyModel', () => {
  it('accepts a consistent manifest', () => {
    const model = readVerifyModel(manifest(), 'm.json');
    expect(model.sequences.map((s) => s.map((x) => x.file))).toEqual([['batches-00000.jsonl', 'batches-00001.jsonl']]);
    expect(model.checksPayload).toBe(true);
    expect(model.notes).toEqual([]);
  });

  it.each([
    ['not samebatch', (m: any) => (m.tool = 'other'), 'm.json: "tool" is "other", not "samebatch": not a samebatch output'],
    ['an unknown format', (m: any) => (m.format = 2), 'm.json: manifest format 2 is not known to this samebatch (it reads format 1)'],
    ['a shard outside the directory', (m: any) => (m.shards[1].file = '../x.jsonl'), 'm.json: shards[1].file "../x.jsonl" is not a plain path inside the output directory'],
    ['a gap in the steps', (m: any) => (m.shards[1].first_step = 4), 'm.json: shard batches-00001.jsonl: first_step is 4, but the shards before it hold 3 steps'],
    ['a tail that does not add up', (m: any) => (m.groups[0].tail_left_out_per_epoch = 1), 'm.json: groups[0] (g1): 4 examples in global batches of 2 make 2 batches and a tail of 0, not 2 and 1'],
    ['steps per epoch that do not add up', (m: any) => (m.groups[1].batches_per_epoch = 2), 'm.json: groups[1] (g2): 3 examples in global batches of 1 make 3 batches and a tail of 0, not 2 and 0'],
  ])('refuses %s', (_name, edit, expected) => {
    const m = manifest();
    edit(m);
    expect(message(() => readVerifyModel(m, 'm.json'))).toBe(expected);
  });

  it('notes what it cannot check for an unknown format', () => {
    const m = manifest();
    m.layout.format = 'future';
    const model = readVerifyModel(m, 'm.json');
    expect(model.checksHeader).toBe(false);
    expect(model.notes).toEqual(['line contents not checked: format "future" is not known to this verify']);
  });
});

describe('StepChecker', () => {
  it('passes good lines', () => {
    expect(() => runAll(GOOD)).not.toThrow();
  });

  it.each([
    ['a step out of order', (ls: StepLine[]) => ([ls[1], ls[2]] = [ls[2]!, ls[1]!]), 'out/batches.jsonl:3: step is 2, expected 1'],
    ['an unknown group', (ls: StepLine[]) => ((ls[0]!.value as any).group = 'g9'), 'out/batches.jsonl:1: group "g9" is not in the manifest'],
    ['a wrong size', (ls: StepLine[]) => (ls[0]!.value as any).examples.pop(), 'out/batches.jsonl:1: holds 1 examples, but group g1 takes batch_size × world_size = 2 × 1'],
    ['a wrong batch_size', (ls: StepLine[]) => ((ls[0]!.value as any).batch_size = 3), 'out/batches.jsonl:1: batch_size is 3, but group g1 has batch_size 2'],
    ['a wrong epoch_step', (ls: StepLine[]) => ((ls[4]!.value as any).epoch_step = 0), 'out/batches.jsonl:5: epoch_step is 0, expected 4'],
    ['a mixed type', (ls: StepLine[]) => ((ls[3]!.value as any).examples[1].type = 'only_1neg'), 'out/batches.jsonl:4: example 2 has type "only_1neg", but the line is of type "normal": one batch, one type'],
    ['teacher scores without distillation', (ls: StepLine[]) => ((ls[1]!.value as any).examples[0].pos_scores = [1]), 'out/batches.jsonl:2: example 1 carries teacher scores, but the run was made without --knowledge-distillation'],
    ['an example twice', (ls: StepLine[]) => ((ls[4]!.value as any).examples[0] = { query: 'x' }), 'out/batches.jsonl:5: example 1 appears twice in epoch 0: it is in step 1 too'],
    ['a group with too many batches', (ls: StepLine[]) => { ls[4] = line(4, 'g1', [{ query: 'e' }, { query: 'f' }]); }, 'out/batches.jsonl:5: epoch 0 holds more than the 2 batches of group g1 the manifest lists'],
  ])('fails on %s, naming the line', (_name, edit, expected) => {
    const lines = structuredClone(GOOD);
    edit(lines);
    expect(message(() => runAll(lines))).toMatch(new RegExp(`^${expected.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  it('fails when the shards end before the manifest\'s steps', () => {
    expect(message(() => runAll(GOOD.slice(0, 4)))).toBe('out/manifest.json: the shards hold 4 steps, but totals.steps is 5');
  });
});

describe('checkShardTally', () => {
  const s = { file: 'b.jsonl', rank: null, first_step: 0, batches: 3, examples: 5, bytes: 100, sha256: 'a'.repeat(64) };
  it('compares lines, examples, bytes and sha256 in that order', () => {
    expect(() => checkShardTally(s, { lines: 3, examples: 5, bytes: 100, sha256: 'a'.repeat(64) }, 'o/b.jsonl')).not.toThrow();
    expect(message(() => checkShardTally(s, { lines: 2, examples: 4, bytes: 90, sha256: 'c'.repeat(64) }, 'o/b.jsonl'))).toBe('o/b.jsonl: holds 2 lines, but the manifest lists 3 batches (truncated, or lines deleted)');
    expect(message(() => checkShardTally(s, { lines: 3, examples: null, bytes: 90, sha256: 'c'.repeat(64) }, 'o/b.jsonl'))).toBe('o/b.jsonl: is 90 bytes, but the manifest lists 100 (edited or truncated)');
  });
});
