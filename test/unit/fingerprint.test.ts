import { describe, expect, it } from 'vitest';
import { asFingerprint, canonicalJson, fingerprintChanges, makeFingerprint, type InputIdentity } from '../../src/core/fingerprint.js';

const A: InputIdentity = { id: 'retrieval/a.jsonl', argIndex: 0, fromFileArg: false, noInBatchNeg: false, sha256: 'a'.repeat(64) };
const B: InputIdentity = { id: 'b.jsonl', argIndex: 1, fromFileArg: true, noInBatchNeg: false, sha256: 'b'.repeat(64) };

describe('canonicalJson', () => {
  it('sorts keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1], c: null } })).toBe('{"a":{"c":null,"d":[3,1]},"b":1}');
    expect(canonicalJson({ x: 1, y: 'z' })).toBe(canonicalJson({ y: 'z', x: 1 }));
  });
});

describe('makeFingerprint', () => {
  const base = makeFingerprint([A, B], { seed: 42, batch_size: 4 }, '1.0.0');

  it('is three digests-or-version, independent of the options\' key order', () => {
    expect(base.inputs).toMatch(/^[0-9a-f]{64}$/);
    expect(base.options).toMatch(/^[0-9a-f]{64}$/);
    expect(base.version).toBe('1.0.0');
    expect(makeFingerprint([A, B], { batch_size: 4, seed: 42 }, '1.0.0')).toEqual(base);
  });

  it('changes its inputs digest with a file\'s content, id, argument or order; not with anything else', () => {
    expect(makeFingerprint([{ ...A, sha256: 'c'.repeat(64) }, B], { seed: 42, batch_size: 4 }, '1.0.0').inputs).not.toBe(base.inputs);
    expect(makeFingerprint([{ ...A, id: 'other/a.jsonl' }, B], { seed: 42, batch_size: 4 }, '1.0.0').inputs).not.toBe(base.inputs);
    expect(makeFingerprint([{ ...A, argIndex: 1 }, B], { seed: 42, batch_size: 4 }, '1.0.0').inputs).not.toBe(base.inputs);
    expect(makeFingerprint([B, A], { seed: 42, batch_size: 4 }, '1.0.0').inputs).not.toBe(base.inputs);
    expect(makeFingerprint([{ ...A, path: 'data/retrieval/a.jsonl' }, B], { seed: 42, batch_size: 4 }, '1.0.0').inputs).not.toBe(base.inputs);
    expect(makeFingerprint([A, B], { seed: 7, batch_size: 4 }, '1.0.0').inputs).toBe(base.inputs);
  });

  it('tells which parts changed', () => {
    expect(fingerprintChanges(base, base)).toEqual([]);
    const other = makeFingerprint([B], { seed: 7 }, '2.0.0');
    expect(fingerprintChanges(base, other)).toEqual(['version', 'options', 'inputs']);
  });

  it('reads a fingerprint back from a manifest value, or null', () => {
    expect(asFingerprint(JSON.parse(JSON.stringify(base)))).toEqual(base);
    expect(asFingerprint(null)).toBeNull();
    expect(asFingerprint({ inputs: 'x', options: 1, version: 'v' })).toBeNull();
  });
});
