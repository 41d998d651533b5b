import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batchLineParts, type BatchHeader } from '../../src/core/batch-line.js';

const header: BatchHeader = {
  epoch: 1,
  step: 17,
  epochStep: 5,
  group: 'retrieval/nq.jsonl',
  type: 'normal',
  batchSize: 2,
  worldSize: 2,
  noInBatchNeg: false,
};

const examples = [
  { query: 'q1', pos: ['p1'], neg: [] },
  { query: 'q2 "quoted"', pos: ['p2'], neg: ['n2'], extra: { a: 1 } },
  { query: 'q3 ünïcödé \u{1F600}', pos: ['p3'], neg: ['n3'] },
  { query: 'q4', pos: ['p4\nnewline'], neg: ['n4'] },
];

function line(h: BatchHeader, provenance: readonly string[] | null, exs: readonly unknown[] = examples): string {
  const { head, tail } = batchLineParts(h, provenance);
  return head + exs.map((e) => JSON.stringify(e)).join(',') + tail;
}

describe('batchLineParts', () => {
  it('makes one JSON line with the documented fields and the examples in order', () => {
    const text = line(header, null);
    expect(text.endsWith('\n')).toBe(true);
    expect(text.slice(0, -1)).not.toContain('\n');
    expect(JSON.parse(text)).toEqual({
      epoch: 1,
      step: 17,
      epoch_step: 5,
      group: 'retrieval/nq.jsonl',
      type: 'normal',
      batch_size: 2,
      world_size: 2,
      no_in_batch_neg: false,
      examples,
    });
  });

  it('leaves provenance out when not asked for', () => {
    expect(JSON.parse(line(header, null))).not.toHaveProperty('provenance');
  });

  it('includes provenance when given', () => {
    const prov = ['data/nq.jsonl:3', 'data/nq.jsonl:9', 'data/nq.jsonl:1', 'data/nq.jsonl:12'];
    const parsed = JSON.parse(line(header, prov)) as Record<string, unknown>;
    expect(parsed.provenance).toEqual(prov);
    expect(parsed.examples).toEqual(examples);
  });

  it('writes a null type and a true flag', () => {
    const parsed = JSON.parse(line({ ...header, type: null, noInBatchNeg: true }, null)) as Record<string, unknown>;
    expect(parsed.type).toBeNull();
    expect(parsed.no_in_batch_neg).toBe(true);
  });

  it('escapes group ids and types that need it', () => {
    const h = { ...header, group: 'dir "x"\\y/<small:sym\u2028>', type: 'a"b' };
    const parsed = JSON.parse(line(h, ['pa"th:1'], [examples[0]])) as Record<string, unknown>;
    expect(parsed.group).toBe(h.group);
    expect(parsed.type).toBe('a"b');
    expect(parsed.provenance).toEqual(['pa"th:1']);
  });

  it('makes a valid line with a single example', () => {
    expect((JSON.parse(line(header, null, [examples[0]])) as { examples: unknown[] }).examples).toHaveLength(1);
  });

  it('keeps the examples last, so a reader can splice the records in as bytes', () => {
    const { head } = batchLineParts(header, ['a:1']);
    expect(head.endsWith('"examples":[')).toBe(true);
  });

  it('does not depend on anything but its input', () => {
    expect(batchLineParts(header, null)).toEqual(batchLineParts({ ...header }, null));
  });
});

describe('batchLineParts (property)', () => {
  it('always makes one line of valid JSON carrying the header, provenance when given, and the examples', () => {
    const text = fc.string({ unit: 'binary', maxLength: 12 });
    fc.assert(
      fc.property(
        fc.record({
          epoch: fc.nat(1000),
          step: fc.nat(1_000_000),
          epochStep: fc.nat(1_000_000),
          group: text,
          type: fc.option(text, { nil: null }),
          batchSize: fc.integer({ min: 1, max: 64 }),
          worldSize: fc.integer({ min: 1, max: 16 }),
          noInBatchNeg: fc.boolean(),
        }),
        fc.option(fc.array(text, { maxLength: 4 }), { nil: null }),
        fc.array(fc.record({ query: text, pos: fc.array(text, { minLength: 1, maxLength: 2 }), neg: fc.array(text, { maxLength: 2 }) }), {
          minLength: 1,
          maxLength: 4,
        }),
        (h, provenance, exs) => {
          const out = line(h, provenance, exs);
          expect(out.indexOf('\n')).toBe(out.length - 1);
          const parsed = JSON.parse(out) as Record<string, unknown>;
          const expected: Record<string, unknown> = {
            epoch: h.epoch,
            step: h.step,
            epoch_step: h.epochStep,
            group: h.group,
            type: h.type,
            batch_size: h.batchSize,
            world_size: h.worldSize,
            no_in_batch_neg: h.noInBatchNeg,
            examples: exs,
          };
          if (provenance !== null) expected.provenance = provenance;
          expect(parsed).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });
});
