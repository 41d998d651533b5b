import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { SamebatchError } from '../../src/errors.js';
import { BUILD_OPTIONS, dataOptions, parseByteSize, resolveOptions, type BuildOptions } from '../../src/options.js';

const MiB = 1024 * 1024;

function caught(fn: () => unknown): SamebatchError {
  try {
    fn();
  } catch (e) {
    if (e instanceof SamebatchError) return e;
    throw e;
  }
  throw new Error('expected a SamebatchError');
}

describe('parseByteSize', () => {
  it('reads plain byte counts', () => {
    expect(parseByteSize('4096')).toBe(4096);
    expect(parseByteSize('0')).toBe(0);
    expect(parseByteSize('10b')).toBe(10);
  });

  it('reads K, M, G suffixes as powers of 1024, in any case, with or without iB/B', () => {
    expect(parseByteSize('64M')).toBe(64 * MiB);
    expect(parseByteSize('64MiB')).toBe(64 * MiB);
    expect(parseByteSize('64mb')).toBe(64 * MiB);
    expect(parseByteSize('1GiB')).toBe(1024 * MiB);
    expect(parseByteSize('1g')).toBe(1024 * MiB);
    expect(parseByteSize('2K')).toBe(2048);
    expect(parseByteSize('2kib')).toBe(2048);
    expect(parseByteSize('128MiB')).toBe(128 * MiB);
  });

  it('allows surrounding spaces and a space before the unit', () => {
    expect(parseByteSize(' 16 KiB ')).toBe(16 * 1024);
  });

  it('refuses anything else', () => {
    for (const bad of ['', 'abc', '-1', '1.5M', 'M', '12T', '1 2', '0x10', '1e3', 'MiB64', '64 MiBs']) {
      expect(parseByteSize(bad), JSON.stringify(bad)).toBeNull();
    }
  });

  it('refuses sizes beyond safe integers', () => {
    expect(parseByteSize('99999999999999999999')).toBeNull();
    expect(parseByteSize('9999999999G')).toBeNull();
  });
});

describe('resolveOptions', () => {
  it('fills in the documented defaults', () => {
    const o = resolveOptions({ out: 'shards' });
    expect(o).toMatchObject({
      out: 'shards',
      batchSize: 8,
      worldSize: 1,
      seed: 42,
      epochs: 1,
      smallThreshold: 0,
      dropThreshold: 0,
      maxExamplesPerDataset: null,
      knowledgeDistillation: false,
      recursive: false,
      shardMaxBatches: 0,
      shardMaxBytes: 128 * MiB,
      force: false,
      provenance: false,
      logLevel: 'info',
    } satisfies Partial<BuildOptions>);
  });

  it('fills in every declared option, and nothing else', () => {
    const o = resolveOptions({ out: 'shards' }) as unknown as Record<string, unknown>;
    expect(Object.keys(o).sort()).toEqual(BUILD_OPTIONS.map((s) => s.key).sort());
    for (const spec of BUILD_OPTIONS) {
      // --jobs defaults to the cores this machine offers, resolved at run time.
      if (spec.key === 'jobs') expect(o.jobs).toBe(Math.max(1, os.availableParallelism()));
      else if (spec.key !== 'out') expect(o[spec.key], spec.key).toEqual(spec.default);
    }
  });

  it('requires --out with E_USAGE (exit 2)', () => {
    const e = caught(() => resolveOptions({}));
    expect(e.code).toBe('E_USAGE');
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain('--out');
  });

  it('accepts - for standard output', () => {
    expect(resolveOptions({ out: '-' }).out).toBe('-');
  });

  it('reads numbers given as text (as commander passes them) and as numbers', () => {
    const o = resolveOptions({
      out: 'o',
      batchSize: '16',
      worldSize: 4,
      seed: '-3',
      epochs: '2',
      smallThreshold: '0',
      dropThreshold: 5,
      maxExamplesPerDataset: '1000',
      shardMaxBatches: '10',
      shardMaxBytes: '64M',
    });
    expect(o).toMatchObject({
      batchSize: 16,
      worldSize: 4,
      seed: -3,
      epochs: 2,
      smallThreshold: 0,
      dropThreshold: 5,
      maxExamplesPerDataset: 1000,
      shardMaxBatches: 10,
      shardMaxBytes: 64 * MiB,
    });
  });

  it('accepts a byte count as a number and 0 for no cap', () => {
    expect(resolveOptions({ out: 'o', shardMaxBytes: 4096 }).shardMaxBytes).toBe(4096);
    expect(resolveOptions({ out: 'o', shardMaxBytes: '0' }).shardMaxBytes).toBe(0);
  });

  it('sets flags only from true', () => {
    const o = resolveOptions({ out: 'o', knowledgeDistillation: true, recursive: true, force: true, provenance: true });
    expect(o).toMatchObject({ knowledgeDistillation: true, recursive: true, force: true, provenance: true });
    expect(resolveOptions({ out: 'o', force: false }).force).toBe(false);
  });

  it('accepts the documented log levels', () => {
    for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'silent']) {
      expect(resolveOptions({ out: 'o', logLevel: level }).logLevel).toBe(level);
    }
  });

  const bad: [keyof BuildOptions, unknown][] = [
    ['batchSize', '0'],
    ['batchSize', 0],
    ['batchSize', '-2'],
    ['batchSize', '1.5'],
    ['batchSize', 'eight'],
    ['batchSize', ''],
    ['batchSize', '99999999999999999999'],
    ['worldSize', '0'],
    ['epochs', '0'],
    ['seed', '4.2'],
    ['seed', 'abc'],
    ['smallThreshold', '-1'],
    ['dropThreshold', '-5'],
    ['maxExamplesPerDataset', '0'],
    ['shardMaxBatches', '-1'],
    ['shardMaxBytes', 'lots'],
    ['shardMaxBytes', '-1'],
    ['shardMaxBytes', -1],
    ['shardMaxBytes', 1.5],
    ['logLevel', 'loud'],
    ['logLevel', 3],
    ['out', ''],
  ];
  for (const [key, value] of bad) {
    it(`refuses ${key} = ${JSON.stringify(value)} with E_OPTION (exit 2) naming the flag`, () => {
      const e = caught(() => resolveOptions({ out: 'o', [key]: value }));
      expect(e.code).toBe('E_OPTION');
      expect(e.exitCode).toBe(2);
      const spec = BUILD_OPTIONS.find((s) => s.key === key);
      expect(e.message).toContain(spec?.flag ?? '??');
    });
  }
});

describe('BUILD_OPTIONS', () => {
  it('declares every option once with a kebab-case flag', () => {
    const keys = BUILD_OPTIONS.map((s) => s.key);
    expect(new Set(keys).size).toBe(keys.length);
    for (const s of BUILD_OPTIONS) {
      expect(s.flag).toMatch(/^--[a-z]+(-[a-z]+)*$/);
      expect(s.help.length).toBeGreaterThan(0);
      const kebab = `--${s.key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      expect(s.flag).toBe(kebab);
    }
  });
});

describe('dataOptions', () => {
  it('lists the options that shape the data, in snake case, without out, force or log level', () => {
    const d = dataOptions(resolveOptions({ out: 'o', force: true, logLevel: 'debug', seed: '7', shardMaxBytes: '1K' }));
    expect(d).toMatchObject({
      batch_size: 8,
      world_size: 1,
      seed: 7,
      epochs: 1,
      small_threshold: 0,
      drop_threshold: 0,
      max_examples_per_dataset: null,
      knowledge_distillation: false,
      recursive: false,
      shard_max_batches: 0,
      shard_max_bytes: 1024,
      provenance: false,
    });
    for (const key of Object.keys(d)) expect(key).toMatch(/^[a-z]+(_[a-z]+)*$/);
    expect(d).not.toHaveProperty('out');
    expect(d).not.toHaveProperty('force');
    expect(d).not.toHaveProperty('log_level');
  });
});
