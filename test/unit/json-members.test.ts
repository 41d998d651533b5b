import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyCuts, memberCuts } from '../../src/core/json-members.js';

const SCORES = new Set(['pos_scores', 'neg_scores']);

function stripped(text: string): string {
  return applyCuts(Buffer.from(text), memberCuts(Buffer.from(text), SCORES)).toString();
}

function withoutScores(text: string): unknown {
  const o = JSON.parse(text) as Record<string, unknown>;
  delete o.pos_scores;
  delete o.neg_scores;
  return o;
}

/** An object's members written with a random separator style, so cuts meet every spacing. */
function render(members: [string, unknown][], space: string): string {
  return `{${space}${members.map(([k, v]) => `${JSON.stringify(k)}${space}:${space}${JSON.stringify(v)}`).join(`${space},${space}`)}${space}}`;
}

describe('memberCuts / applyCuts', () => {
  it('removes the scores of an upstream-style record and keeps every other byte', () => {
    const text = '{"query": "q", "pos": ["p"], "neg": ["n"], "pos_scores": [98.1875], "neg_scores": [82.25], "prompt": "x", "type": "only_1neg"}';
    expect(stripped(text)).toBe('{"query": "q", "pos": ["p"], "neg": ["n"], "prompt": "x", "type": "only_1neg"}');
  });

  it('handles scores first, last, alone, apart, and keys or quotes inside strings', () => {
    expect(stripped('{"pos_scores":[1],"q":1}')).toBe('{"q":1}');
    expect(stripped('{"q":1,"neg_scores":[1]}')).toBe('{"q":1}');
    expect(stripped('{ "pos_scores":[1] }')).toBe('{  }');
    expect(stripped('{"x":1, "pos_scores":[1],"neg_scores":[2,3] }')).toBe('{"x":1 }');
    expect(JSON.parse(stripped('{"neg_scores":[],"a":1,"pos_scores":[2],"b":[3]}'))).toEqual({ a: 1, b: [3] });
    expect(stripped('{"a":"\\"pos_scores\\": [1]","pos_scores":[1]}')).toBe('{"a":"\\"pos_scores\\": [1]"}');
    expect(stripped('{"m":{"pos_scores":1},"pos_scores":[1]}')).toBe('{"m":{"pos_scores":1}}');
    expect(stripped('{"a":"ends with backslash \\\\","pos_scores":[1]}')).toBe('{"a":"ends with backslash \\\\"}');
  });

  it('cuts nothing when no key is present', () => {
    expect(memberCuts(Buffer.from('{"query":"q","pos":["p"]}'), SCORES)).toEqual([]);
  });

  it('always leaves valid JSON equal to the object without the scores (property)', () => {
    const key = fc.oneof(fc.constantFrom('pos_scores', 'neg_scores', 'query', 'pos', 'x'), fc.string());
    const value = fc.jsonValue({ maxDepth: 2 });
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(key, value), { selector: (m) => m[0], maxLength: 8 }), fc.constantFrom('', ' ', '\t', '  '), (members, space) => {
        const text = render(members, space);
        const out = stripped(text);
        expect(JSON.parse(out)).toEqual(withoutScores(text));
        // Only whole members (and separators) leave: the other members' text stays as written.
        for (const [k, v] of members) {
          if (!SCORES.has(k)) expect(out).toContain(`${JSON.stringify(k)}${space}:${space}${JSON.stringify(v)}`);
        }
      }),
      { numRuns: 400 },
    );
  });
});
