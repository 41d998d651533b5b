import { describe, expect, it } from 'vitest';
import { splitJsonArray, type ArrayElement, type ArraySyntaxError } from '../../src/core/json-array.js';

function elements(text: string, from?: number): ArrayElement[] {
  const r = splitJsonArray(text, from);
  if (!Array.isArray(r)) throw new Error(`expected elements, got ${JSON.stringify(r)}`);
  return r;
}

function syntaxError(text: string): ArraySyntaxError {
  const r = splitJsonArray(text);
  if (Array.isArray(r)) throw new Error(`expected a syntax error, got ${r.length} elements`);
  return r;
}

function texts(text: string, from?: number): string[] {
  return elements(text, from).map((e) => text.slice(e.start, e.end));
}

describe('splitJsonArray', () => {
  it('splits a one-line array into its top-level elements', () => {
    expect(texts('[{"a":1},{"b":[1,2,{"c":3}]},{"d":"x"}]')).toEqual(['{"a":1}', '{"b":[1,2,{"c":3}]}', '{"d":"x"}']);
  });

  it('gives each element text that parses on its own to the same value', () => {
    const value = [{ query: 'q', pos: ['a, b', '[x]'], neg: [] }, { query: '{"}', pos: ['\\'], neg: ['"'] }, 3, 'str', null];
    const text = JSON.stringify(value, null, 2);
    expect(texts(text).map((t) => JSON.parse(t) as unknown)).toEqual(value);
  });

  it('is not fooled by brackets, commas and escaped quotes inside strings', () => {
    expect(texts('[{"q":"a ] b"},{"q":"c, \\"}\\" d"}]')).toEqual(['{"q":"a ] b"}', '{"q":"c, \\"}\\" d"}']);
  });

  it('trims whitespace around elements', () => {
    expect(texts('[\n  {"a":1} ,\n\t{"b":2}\r\n]\n')).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('gives the 1-based line and column where each element starts', () => {
    const els = elements('[\n  {"a":1},\n    {"b":2}, {"c":3}\n]');
    expect(els.map((e) => [e.line, e.column])).toEqual([
      [2, 3],
      [3, 5],
      [3, 14],
    ]);
  });

  it('counts lines inside earlier elements', () => {
    const els = elements('[{"a":\n\n1},\n{"b":2}]');
    expect(els.map((e) => e.line)).toEqual([1, 4]);
  });

  it('reads an empty array', () => {
    expect(elements('[]')).toEqual([]);
    expect(elements('  [ \n ]  \n')).toEqual([]);
  });

  it('starts at `from` (e.g. after a byte-order mark), counting lines before it', () => {
    expect(texts('\uFEFF[{"a":1}]', 1)).toEqual(['{"a":1}']);
    const els = elements('xx\n[{"a":1}]', 3);
    expect(els[0]).toMatchObject({ line: 2, column: 2 });
  });

  it('refuses text that does not open with [', () => {
    const e = syntaxError('{"a":1}');
    expect(e.error).toMatch(/\[/);
    expect([e.line, e.column]).toEqual([1, 1]);
  });

  it('refuses an array that never closes', () => {
    expect(syntaxError('[{"a":1},{"b":2}').error).toMatch(/end of file/);
    expect(syntaxError('[{"a":1},').error).toMatch(/end of file/);
    expect(syntaxError('[').error).toMatch(/end of file/);
  });

  it('refuses text after the array, with its position', () => {
    const e = syntaxError('[{"a":1}]\n{"b":2}');
    expect(e.error).toMatch(/after/);
    expect([e.line, e.column]).toEqual([2, 1]);
  });

  it('refuses empty elements and trailing commas', () => {
    expect(syntaxError('[{"a":1},,{"b":2}]').error).toMatch(/empty/);
    expect(syntaxError('[{"a":1},]').error).toMatch(/empty/);
    expect(syntaxError('[,]').error).toMatch(/empty/);
  });

  it('leaves two values without a comma in one element, whose own parse then fails', () => {
    const t = texts('[{"a":1} {"b":2}]');
    expect(t).toHaveLength(1);
    expect(() => JSON.parse(t[0] as string) as unknown).toThrow();
  });

  // A closing brace with nothing open is a syntax error, not a separator.
  it('refuses a stray closing brace between elements', () => {
    expect(Array.isArray(splitJsonArray('[{"a":1}}{"b":2}]'))).toBe(false);
    expect(Array.isArray(splitJsonArray('[{"a":1} } {"b":2}]'))).toBe(false);
  });

  it('refuses a stray closing brace before the end', () => {
    expect(Array.isArray(splitJsonArray('[{"a":1}}]'))).toBe(false);
  });
});
