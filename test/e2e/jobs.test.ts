/**
 * Parallelism does not change the output: --jobs 1 (everything in one thread) and --jobs 2
 * (worker threads index chunks of each file and assemble batch lines) write the same bytes, on
 * files large enough to be cut into several chunks, with score removal, gzip, provenance and a
 * skipped invalid record in play.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOk, readManifest, removeTempDirs, snapshotTree, tempDir } from './helpers.js';

let dir: string;

beforeAll(() => {
  dir = tempDir('samebatch-jobs-');
  const data = path.join(dir, 'data');
  fs.mkdirSync(data);
  const filler = 'lorem ipsum dolor sit amet consectetur adipiscing elit '.repeat(12);
  // ~20 MB and ~12 MB: more than one 8 MiB chunk each.
  const write = (name: string, n: number, type: string, bad: number): void => {
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      if (i === bad) {
        lines.push('{"query": 7, "pos": ["p"], "neg": ["n"]}');
        continue;
      }
      lines.push(JSON.stringify({ query: `${name} ${i}`, pos: [`${filler}${i}`], neg: [filler, `${filler}!`], pos_scores: [i % 100], neg_scores: [1, 2], type }));
    }
    fs.writeFileSync(path.join(data, name), `${lines.join('\n')}\n`);
  };
  write('big.jsonl', 26000, 'normal', 17000);
  write('other.jsonl', 15000, 'only_1neg', -1);
  const gz = path.join(dir, 'packed.jsonl.gz');
  fs.writeFileSync(gz, zlib.gzipSync(fs.readFileSync(path.join(data, 'other.jsonl'))));
}, 120_000);

afterAll(removeTempDirs);

describe('--jobs', () => {
  it('--jobs 1 and --jobs 2 write byte-identical shards and manifests', () => {
    const outs = [1, 2].map((jobs) => {
      const out = path.join(dir, `out-${jobs}`);
      buildOk(
        [path.join(dir, 'data'), path.join(dir, 'packed.jsonl.gz'), '--batch-size', '16', '--world-size', '2', '--epochs', '2',
          '--skip-invalid', '--provenance', '--shard-max-bytes', '8M', '--jobs', String(jobs), '--out', out, '--log-level', 'warn'],
      );
      return out;
    });
    const [a, b] = outs.map((o) => snapshotTree(o!));
    expect([...a!.keys()].length).toBeGreaterThan(2);
    expect([...a!.keys()]).toEqual([...b!.keys()]);
    for (const [name, bytes] of a!) expect(bytes.equals(b!.get(name)!), name).toBe(true);

    const m = readManifest(outs[0]!);
    const big = m.inputs.find((i) => i.path.endsWith('big.jsonl')) as unknown as { records: number; invalid: { count: number; first: string[] } };
    expect(big.records).toBe(25999);
    expect(big.invalid.count).toBe(1);
    expect(big.invalid.first[0]).toMatch(/big\.jsonl:17001: field "query" must be a string/);
  }, 120_000);
});
