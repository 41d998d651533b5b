import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { indexChunk, mergeChunks, type ChunkRules } from '../../src/core/chunk.js';
import { SamebatchError } from '../../src/errors.js';
import { RECORD_HAS_SCORES } from '../../src/types.js';

const strict: ChunkRules = { knowledgeDistillation: false, trainGroupSize: 8, skipInvalid: false };
const lenient: ChunkRules = { ...strict, skipInvalid: true };

/** Cuts `buf` after the newlines at the given positions (as the file reader does) and merges. */
function indexInChunks(buf: Buffer, cutsAfter: number[], rules: ChunkRules) {
  const bounds: number[] = [0];
  for (const c of [...new Set(cutsAfter)].sort((a, b) => a - b)) {
    const nl = buf.indexOf(0x0a, c);
    if (nl >= 0 && nl + 1 > (bounds.at(-1) ?? 0) && nl + 1 < buf.length) bounds.push(nl + 1);
  }
  bounds.push(buf.length);
  const chunks = [];
  for (let i = 0; i + 1 < bounds.length; i++) chunks.push(indexChunk(buf.subarray(bounds[i], bounds[i + 1]), bounds[i]!, rules));
  return mergeChunks('f.jsonl', chunks, rules.skipInvalid);
}

function outcome(fn: () => unknown): unknown {
  try {
    const r = fn() as Record<string, unknown>;
    return { ...r, offsets: [...(r.offsets as Float64Array)], lengths: [...(r.lengths as Uint32Array)], lines: [...(r.lines as Uint32Array)], flags: [...(r.flags as Uint8Array)] };
  } catch (e) {
    return { error: (e as SamebatchError).code, message: (e as Error).message };
  }
}

const good = (i: number): string => JSON.stringify({ query: `q${i}`, pos: ['p'], neg: ['n'], pos_scores: [1], neg_scores: [0.5], type: 'normal' });
const lineKinds = fc.constantFrom('good', 'good', 'good', 'blank', 'crlf', 'badjson', 'badfield', 'othertype', 'nul');

function lineOf(kind: string, i: number): string {
  switch (kind) {
    case 'blank':
      return '   ';
    case 'crlf':
      return `${good(i)}\r`;
    case 'badjson':
      return `{"query": "q${i}", "pos": [}`;
    case 'badfield':
      return JSON.stringify({ query: i, pos: ['p'], neg: ['n'] });
    case 'othertype':
      return JSON.stringify({ query: `q${i}`, pos: ['p'], neg: ['n'], type: 'only_1neg' });
    case 'nul':
      return 'null';
    default:
      return good(i);
  }
}

describe('indexChunk + mergeChunks', () => {
  it('gives line numbers and offsets that point at the records, and flags those with teacher scores', () => {
    const text = `\uFEFF${good(1)}\n\n${good(2)}\r\n${good(3)}`;
    const buf = Buffer.from(text);
    const m = indexInChunks(buf, [], strict);
    expect(m.records).toBe(3);
    expect([...m.lines!]).toEqual([1, 3, 4]);
    for (let r = 0; r < 3; r++) {
      const rec = buf.subarray(m.offsets[r]!, m.offsets[r]! + m.lengths[r]!).toString();
      expect(JSON.parse(rec).query).toBe(`q${r + 1}`);
      expect(m.flags[r]).toBe(RECORD_HAS_SCORES);
    }
  });

  it('reports the first fault in file order with its absolute line, whatever the chunking', () => {
    const lines = [good(1), good(2), '{"query": 1, "pos": ["p"], "neg": []}', good(4), '{bad'];
    const buf = Buffer.from(lines.join('\n'));
    for (const cuts of [[], [0], [10, 200], [0, 50, 100, 150, 200]]) {
      expect(() => indexInChunks(buf, cuts, strict)).toThrow(/^f\.jsonl:3: field "query" must be a string/);
    }
  });

  it('the merged result does not depend on where the file is cut (property)', () => {
    fc.assert(
      fc.property(fc.array(lineKinds, { minLength: 1, maxLength: 30 }), fc.array(fc.nat(4000), { maxLength: 6 }), fc.boolean(), (kinds, cuts, skip) => {
        const buf = Buffer.from(kinds.map(lineOf).join('\n'));
        const rules = skip ? lenient : strict;
        expect(outcome(() => indexInChunks(buf, cuts, rules))).toEqual(outcome(() => indexInChunks(buf, [], rules)));
      }),
      { numRuns: 300 },
    );
  });

  it('a record of another type is a whole-file fault even under --skip-invalid', () => {
    const buf = Buffer.from([good(1), lineOf('othertype', 2)].join('\n'));
    expect(() => indexInChunks(buf, [], lenient)).toThrow(/f\.jsonl:2: field "type" must be the same in every record of a data file \(line 1 has "normal"\), got "only_1neg"/);
  });
});
