import { describe, expect, it } from 'vitest';
import { describeFound, ERROR_CODES, formatLocation, SamebatchError } from '../../src/errors.js';

describe('SamebatchError', () => {
  it('carries code, location, detail and cause', () => {
    const cause = new Error('inner');
    const e = new SamebatchError('E_FIELD', 'bad field', { location: { file: 'a.jsonl', line: 3 }, detail: 'more', cause });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('SamebatchError');
    expect(e.code).toBe('E_FIELD');
    expect(e.message).toBe('bad field');
    expect(e.location).toEqual({ file: 'a.jsonl', line: 3 });
    expect(e.detail).toBe('more');
    expect(e.cause).toBe(cause);
  });

  it('maps usage errors to exit 2 and data errors to exit 1', () => {
    for (const code of ['E_USAGE', 'E_OPTION', 'E_PATH_MISSING', 'E_OUT_EXISTS'] as const) {
      expect(new SamebatchError(code, 'x').exitCode).toBe(2);
    }
    for (const code of ['E_JSON', 'E_FIELD', 'E_BATCH_SIZE', 'E_BATCH_SIZE_ZERO', 'E_SCORES', 'E_NO_BATCHES', 'E_TYPE_MIXED'] as const) {
      expect(new SamebatchError(code, 'x').exitCode).toBe(1);
    }
  });

  it('has only exit classes 1 and 2', () => {
    for (const v of Object.values(ERROR_CODES)) expect([1, 2]).toContain(v);
  });
});

describe('formatLocation', () => {
  it('prints file, file:line and file:line:column', () => {
    expect(formatLocation({ file: 'd/a.jsonl' })).toBe('d/a.jsonl');
    expect(formatLocation({ file: 'd/a.jsonl', line: 12 })).toBe('d/a.jsonl:12');
    expect(formatLocation({ file: 'd/a.jsonl', line: 12, column: 5 })).toBe('d/a.jsonl:12:5');
  });

  it('leaves out a column without a line', () => {
    expect(formatLocation({ file: 'a.json', column: 5 })).toBe('a.json');
  });
});

describe('describeFound', () => {
  it('says what kind of value was found and shows it', () => {
    expect(describeFound(undefined)).toMatch(/missing/);
    expect(describeFound(null)).toBe('null');
    expect(describeFound([1, 2])).toBe('array [1,2]');
    expect(describeFound('x')).toBe('string "x"');
    expect(describeFound(3)).toBe('number 3');
    expect(describeFound({ a: 1 })).toBe('object {"a":1}');
  });

  it('cuts long values to the given length', () => {
    const s = describeFound('x'.repeat(500), 20);
    expect(s.startsWith('string ')).toBe(true);
    expect(s.length).toBeLessThanOrEqual('string '.length + 20);
    expect(s.endsWith('…')).toBe(true);
  });
});
