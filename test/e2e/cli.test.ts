/**
 * The command-line contract: help/version, usage errors (exit 2), data errors (exit 1) with
 * file:line, provenance, skipped/passed-over inputs, --recursive, no_in_batch_neg naming rules
 * and duplicate inputs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  FIXTURES,
  REPO,
  WARN,
  buildOk,
  checkInvariants,
  indexInputs,
  leftoverTmpDirs,
  parseStderr,
  readBatches,
  readManifest,
  readRecords,
  removeTempDirs,
  run,
  tempDir,
  withoutScores,
} from './helpers.js';

afterAll(removeTempDirs);

const VERSION = (JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

describe('help and version', () => {
  it('--help exits 0 and lists the build command', () => {
    const r = run(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('build');
  });

  it('build --help exits 0 and lists the options', () => {
    const r = run(['build', '--help']);
    expect(r.status).toBe(0);
    for (const flag of ['--out', '--batch-size', '--world-size', '--seed', '--epochs', '--small-threshold', '--drop-threshold', '--force', '--provenance']) {
      expect(r.stdout).toContain(flag);
    }
  });

  it('--version exits 0 and prints the package version', () => {
    const r = run(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(VERSION);
  });
});

describe('usage errors exit 2 and write nothing', () => {
  const cases: [string, string[]][] = [
    ['unknown option', ['build', 'fixtures/retrieval', '--bogus', '--out', 'OUT']],
    ['missing --out', ['build', 'fixtures/retrieval']],
    ['--batch-size 0', ['build', 'fixtures/retrieval', '--batch-size', '0', '--out', 'OUT']],
    ['--world-size x', ['build', 'fixtures/retrieval', '--world-size', 'x', '--out', 'OUT']],
    ['--epochs -1', ['build', 'fixtures/retrieval', '--epochs', '-1', '--out', 'OUT']],
    ['--batch-size 2.5', ['build', 'fixtures/retrieval', '--batch-size', '2.5', '--out', 'OUT']],
    ['--shard-max-bytes lots', ['build', 'fixtures/retrieval', '--shard-max-bytes', 'lots', '--out', 'OUT']],
    ['no input path', ['build', '--out', 'OUT']],
    ['nonexistent input path', ['build', 'fixtures/no-such-dir', '--out', 'OUT']],
    ['unknown subcommand', ['frobnicate']],
  ];
  for (const [name, argv] of cases) {
    it(name, () => {
      const parent = tempDir();
      const out = path.join(parent, 'out');
      const r = run(argv.map((a) => (a === 'OUT' ? out : a)));
      expect(r.status, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).not.toBe('');
      expect(fs.existsSync(out)).toBe(false);
      expect(leftoverTmpDirs(parent)).toEqual([]);
    });
  }

  it('a nonexistent input path is named in the message', () => {
    const r = run(['build', 'fixtures/no-such-dir', '--out', path.join(tempDir(), 'out')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('fixtures/no-such-dir');
  });

  it('the same data file given twice (file argument inside a directory argument) exits 2', () => {
    const out = path.join(tempDir(), 'out');
    const r = run(['build', 'fixtures/retrieval', 'fixtures/retrieval/msmarco.jsonl', '--out', out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('msmarco.jsonl');
    expect(fs.existsSync(out)).toBe(false);
  });

  it('the same data file under two spellings exits 2', () => {
    const out = path.join(tempDir(), 'out');
    const r = run(['build', 'fixtures/sts/sts.jsonl', './fixtures/sts/../sts/sts.jsonl', '--out', out]);
    expect(r.status).toBe(2);
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe('data errors exit 1', () => {
  it('a run without any batch shows the per-group table with size and needed global batch size', () => {
    const parent = tempDir();
    const out = path.join(parent, 'out');
    const r = run(['build', 'fixtures/sts/sts.jsonl', '--batch-size', '64', '--out', out]);
    expect(r.status).toBe(1);
    // sts is symmetric: floor(64 / 2) = 32 per device, × world size 1 = 32 > 25 examples
    const row = r.stderr.split('\n').find((l) => l.startsWith('sts.jsonl'));
    expect(row, r.stderr).toBeDefined();
    expect(row).toMatch(/^sts\.jsonl\s+25\s+32\b.*32\s*$/);
    expect(fs.existsSync(out)).toBe(false);
    expect(leftoverTmpDirs(parent)).toEqual([]);
  });

  it('the zero-batch table counts world size too', () => {
    // msmarco 40 (normal, 4 per device) and nli 30: × 16 ranks = 64 > 40
    const r = run(['build', 'fixtures/retrieval/msmarco.jsonl', 'fixtures/retrieval/nli.jsonl', '--batch-size', '4', '--world-size', '16', '--out', path.join(tempDir(), 'out')]);
    expect(r.status).toBe(1);
    const lines = r.stderr.split('\n');
    expect(lines.find((l) => l.startsWith('msmarco.jsonl'))).toMatch(/^msmarco\.jsonl\s+40\s+4\s*×\s*16\s*=\s*64\s*$/);
    expect(lines.find((l) => l.startsWith('nli.jsonl'))).toMatch(/^nli\.jsonl\s+30\s+4\s*×\s*16\s*=\s*64\s*$/);
  });

  it('a malformed record names file:line and nothing is written to --out', () => {
    const parent = tempDir();
    const data = path.join(parent, 'data');
    fs.mkdirSync(data);
    const good = (i: number): string => JSON.stringify({ query: `q${i}`, pos: [`p${i}`], neg: [`n${i}`] });
    fs.writeFileSync(path.join(data, 'broken.jsonl'), `${good(1)}\n${good(2)}\n\n${good(3)}\n{"query": "q4", "pos": ["p4"], "neg": [\n${good(5)}\n`);
    const out = path.join(parent, 'out');
    const r = run(['build', 'data', '--batch-size', '1', '--out', 'out'], { cwd: parent });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('data/broken.jsonl:5');
    expect(fs.existsSync(out)).toBe(false);
    expect(leftoverTmpDirs(parent)).toEqual([]);
  });

  it('a record that breaks the field table names file:line and the field', () => {
    const parent = tempDir();
    const file = path.join(parent, 'fields.jsonl');
    fs.writeFileSync(file, `${JSON.stringify({ query: 'a', pos: ['b'], neg: ['c'] })}\n${JSON.stringify({ query: 'd', pos: 'e', neg: ['f'] })}\n`);
    const out = path.join(parent, 'out');
    const r = run(['build', 'fields.jsonl', '--batch-size', '1', '--out', 'out'], { cwd: parent });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('fields.jsonl:2');
    expect(r.stderr).toContain('pos');
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe('provenance', () => {
  it('"path:line" entries point at the line holding that example', () => {
    const out = path.join(tempDir(), 'out');
    const inputs = ['fixtures/retrieval', 'fixtures/sts/sts.jsonl', 'fixtures/clustering-no_in_batch_neg'];
    buildOk([...inputs, '--batch-size', '4', '--world-size', '2', '--provenance', '--out', out]);
    const lines = readBatches(out);
    const fileLines = new Map<string, string[]>();
    let checked = 0;
    for (const l of lines) {
      expect(l.provenance).toHaveLength(l.examples.length);
      l.examples.forEach((ex, i) => {
        const where = l.provenance?.[i] ?? '';
        const m = /^(.*):(\d+)$/.exec(where);
        if (!m || m[1] === undefined || m[2] === undefined) throw new Error(`bad provenance ${where}`);
        const file = m[1];
        let text = fileLines.get(file);
        if (text === undefined) {
          text = fs.readFileSync(path.join(REPO, file), 'utf8').split('\n');
          fileLines.set(file, text);
        }
        const raw = text[Number(m[2]) - 1];
        expect(raw, where).toBeDefined();
        expect(withoutScores(ex)).toEqual(withoutScores(JSON.parse(raw ?? 'null') as typeof ex));
        checked++;
      });
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('line numbers count blank lines, and a CRLF file with a BOM reads the same', () => {
    const parent = tempDir();
    const recs = Array.from({ length: 6 }, (_, i) => JSON.stringify({ query: `q${i}`, pos: [`p${i}`], neg: [`n${i}`], type: 'normal' }));
    // lines: 1 BOM+rec0, 2 rec1, 3 blank, 4 rec2, 5 blank, 6 blank, 7 rec3, 8 rec4, 9 rec5
    const body = `\uFEFF${recs[0]}\r\n${recs[1]}\r\n\r\n${recs[2]}\r\n\r\n  \r\n${recs[3]}\r\n${recs[4]}\r\n${recs[5]}`;
    fs.writeFileSync(path.join(parent, 'crlf.jsonl'), body);
    buildOk(['crlf.jsonl', '--batch-size', '6', '--provenance', '--out', 'out'], { cwd: parent });
    const lines = readBatches(path.join(parent, 'out'));
    expect(lines).toHaveLength(1);
    const l = lines[0];
    if (l === undefined) throw new Error('no line');
    const lineOf = ['1', '2', '4', '7', '8', '9'];
    l.examples.forEach((ex, i) => {
      const n = Number(ex.query.slice(1));
      expect(l.provenance?.[i]).toBe(`crlf.jsonl:${lineOf[n]}`);
    });
    expect(new Set(l.examples.map((x) => x.query)).size).toBe(6);
  });
});

describe('skipped, dropped and passed over inputs', () => {
  it('a file argument below --small-threshold is skipped with a warning and listed in manifest.skipped', () => {
    const out = path.join(tempDir(), 'out');
    const r = buildOk(['fixtures/retrieval/fever.jsonl', 'fixtures/retrieval/msmarco.jsonl', '--small-threshold', '12', '--batch-size', '4', '--out', out]);
    const warns = parseStderr(r.stderr).logs.filter((l) => l.level === WARN);
    expect(warns.some((w) => w.msg.includes('fixtures/retrieval/fever.jsonl'))).toBe(true);
    const m = readManifest(out);
    expect(m.skipped).toHaveLength(1);
    expect(m.skipped[0]).toMatchObject({ path: 'fixtures/retrieval/fever.jsonl', records: 6 });
    expect(m.skipped[0]?.reason).toContain('12');
    expect(m.groups.map((g) => g.id)).toEqual(['msmarco.jsonl']);
    // 40 / 4 = 10 batches
    expect(m.groups[0]).toMatchObject({ examples: 40, batches_per_epoch: 10, tail_left_out_per_epoch: 0 });
    checkInvariants(m, readBatches(out, m), indexInputs(['fixtures/retrieval/fever.jsonl', 'fixtures/retrieval/msmarco.jsonl']), { epochs: 1, worldSize: 1 });
  });

  it('an empty data file is skipped with a word, not a crash', () => {
    const parent = tempDir();
    fs.mkdirSync(path.join(parent, 'd'));
    fs.writeFileSync(path.join(parent, 'd', 'empty.jsonl'), '');
    fs.copyFileSync(path.join(FIXTURES, 'sts', 'sts.jsonl'), path.join(parent, 'd', 'sts.jsonl'));
    const r = buildOk(['d', '--batch-size', '4', '--out', 'out'], { cwd: parent });
    const m = readManifest(path.join(parent, 'out'));
    expect(m.skipped).toEqual([expect.objectContaining({ path: 'd/empty.jsonl', records: 0 })]);
    expect(parseStderr(r.stderr).logs.some((l) => l.level === WARN && l.msg.includes('d/empty.jsonl'))).toBe(true);
    // sts: 25 examples, 4/2 = 2 per device → 12 batches, tail 1
    expect(m.groups).toEqual([expect.objectContaining({ id: 'd/sts.jsonl', examples: 25, batch_size: 2, batches_per_epoch: 12, tail_left_out_per_epoch: 1 })]);
  });

  it('a subdirectory holding data is passed over with a warning without --recursive and read with it', () => {
    const parent = tempDir();
    const root = path.join(parent, 'root');
    fs.mkdirSync(path.join(root, 'sub', 'deeper'), { recursive: true });
    fs.copyFileSync(path.join(FIXTURES, 'retrieval', 'msmarco.jsonl'), path.join(root, 'msmarco.jsonl'));
    fs.copyFileSync(path.join(FIXTURES, 'retrieval', 'nq.jsonl'), path.join(root, 'sub', 'nq.jsonl'));
    fs.copyFileSync(path.join(FIXTURES, 'retrieval', 'hotpotqa.jsonl'), path.join(root, 'sub', 'deeper', 'hotpotqa.jsonl'));
    fs.writeFileSync(path.join(root, 'README.txt'), 'not data\n');

    const flat = buildOk(['root', '--batch-size', '4', '--out', 'flat'], { cwd: parent });
    const warns = parseStderr(flat.stderr).logs.filter((l) => l.level === WARN);
    expect(warns.some((w) => w.msg.includes('root/sub'))).toBe(true);
    const mf = readManifest(path.join(parent, 'flat'));
    expect(mf.passed_over.map((p) => p.path)).toEqual(['root/sub']);
    expect(mf.groups.map((g) => g.id)).toEqual(['root/msmarco.jsonl']);
    expect(mf.inputs.map((i) => i.path)).toEqual(['root/msmarco.jsonl']);

    buildOk(['root', '--batch-size', '4', '--recursive', '--small-threshold', '12', '--out', 'deep'], { cwd: parent });
    const md = readManifest(path.join(parent, 'deep'));
    expect(md.passed_over).toEqual([]);
    expect(md.inputs.map((i) => i.path).sort()).toEqual(['root/msmarco.jsonl', 'root/sub/deeper/hotpotqa.jsonl', 'root/sub/nq.jsonl']);
    // each directory merges only its own small files: nq (11) and hotpotqa (10) stay apart
    const ids = md.groups.map((g) => g.id);
    expect(ids).toContain('root/msmarco.jsonl');
    const nq = md.groups.find((g) => g.members.includes('root/sub/nq.jsonl'));
    const hq = md.groups.find((g) => g.members.includes('root/sub/deeper/hotpotqa.jsonl'));
    expect(nq).toMatchObject({ members: ['root/sub/nq.jsonl'], examples: 11, batch_size: 4, batches_per_epoch: 2, tail_left_out_per_epoch: 3 });
    expect(hq).toMatchObject({ members: ['root/sub/deeper/hotpotqa.jsonl'], examples: 10, batch_size: 3, batches_per_epoch: 3, tail_left_out_per_epoch: 1 });
    expect(md.groups).toHaveLength(3);
  });

  it('a directory argument holding only subdirectories of data fails with exit 2 without --recursive', () => {
    const parent = tempDir();
    fs.mkdirSync(path.join(parent, 'top', 'sub'), { recursive: true });
    fs.copyFileSync(path.join(FIXTURES, 'sts', 'sts.jsonl'), path.join(parent, 'top', 'sub', 'sts.jsonl'));
    const r = run(['build', 'top', '--out', 'out'], { cwd: parent });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--recursive');
    expect(fs.existsSync(path.join(parent, 'out'))).toBe(false);
  });
});

describe('no_in_batch_neg naming', () => {
  it('a trailing slash on a no_in_batch_neg directory keeps the flag (upstream fault 5)', () => {
    for (const arg of ['fixtures/clustering-no_in_batch_neg/', 'fixtures/clustering-no_in_batch_neg//', './fixtures/clustering-no_in_batch_neg']) {
      const out = path.join(tempDir(), 'out');
      buildOk([arg, '--batch-size', '4', '--out', out]);
      const m = readManifest(out);
      // arXiv 20 / 2 = 10 batches, bioRXiv 14 / 2 = 7
      expect(m.groups.map((g) => [g.no_in_batch_neg, g.batches_per_epoch])).toEqual([
        [true, 10],
        [true, 7],
      ]);
      const lines = readBatches(out, m);
      expect(lines).toHaveLength(17);
      expect(lines.every((l) => l.no_in_batch_neg)).toBe(true);
    }
  });

  it('a file argument named *no_in_batch_neg.jsonl is marked; a plain one in such a copy is not', () => {
    const parent = tempDir();
    fs.copyFileSync(path.join(FIXTURES, 'sts', 'sts.jsonl'), path.join(parent, 'sts_no_in_batch_neg.jsonl'));
    fs.copyFileSync(path.join(FIXTURES, 'classification-no_in_batch_neg', 'AmazonClassification.jsonl'), path.join(parent, 'amazon.jsonl'));
    buildOk(['sts_no_in_batch_neg.jsonl', 'amazon.jsonl', '--batch-size', '4', '--out', 'out'], { cwd: parent });
    const m = readManifest(path.join(parent, 'out'));
    expect(m.groups.map((g) => [g.id, g.no_in_batch_neg])).toEqual([
      ['sts_no_in_batch_neg.jsonl', true],
      ['amazon.jsonl', false],
    ]);
    for (const l of readBatches(path.join(parent, 'out'), m)) expect(l.no_in_batch_neg).toBe(l.group === 'sts_no_in_batch_neg.jsonl');
  });
});

describe('symbolic links', () => {
  it('a file reached twice through a symbolic link is an input twice: exit 2', () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'd'));
    fs.copyFileSync(path.join(FIXTURES, 'sts', 'sts.jsonl'), path.join(dir, 'd', 'sts.jsonl'));
    fs.symlinkSync(path.join('d', 'sts.jsonl'), path.join(dir, 'alias.jsonl'));
    const r = run(['build', 'd', 'alias.jsonl', '--out', 'out'], { cwd: dir });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('alias.jsonl');
    expect(fs.existsSync(path.join(dir, 'out'))).toBe(false);
  });

  it('a symbolic link loop under --recursive is an error (exit 2), not a hang', () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'l', 'sub'), { recursive: true });
    fs.copyFileSync(path.join(FIXTURES, 'sts', 'sts.jsonl'), path.join(dir, 'l', 'sts.jsonl'));
    fs.symlinkSync('..', path.join(dir, 'l', 'sub', 'loop'));
    const r = run(['build', 'l', '--recursive', '--out', 'out'], { cwd: dir });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('l/sub/loop');
  });
});

describe('no_in_batch_neg under --recursive', () => {
  it('a subdirectory is marked by its own name or a marked directory above it', () => {
    const dir = tempDir();
    const put = (rel: string): void => {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.copyFileSync(path.join(FIXTURES, 'sts', 'sts.jsonl'), path.join(dir, rel));
    };
    put('plain/top.jsonl');
    put('plain/x-no_in_batch_neg/inner.jsonl');
    put('plain/x-no_in_batch_neg/deeper/deep.jsonl');
    put('plain/other/o.jsonl');
    buildOk(['plain', '--recursive', '--batch-size', '4', '--out', 'out'], { cwd: dir });
    const m = readManifest(path.join(dir, 'out'));
    const flag = Object.fromEntries(m.inputs.map((i) => [i.path, i.no_in_batch_neg]));
    expect(flag).toEqual({
      'plain/top.jsonl': false,
      'plain/other/o.jsonl': false,
      'plain/x-no_in_batch_neg/inner.jsonl': true,
      'plain/x-no_in_batch_neg/deeper/deep.jsonl': true,
    });
    for (const g of m.groups) expect(g.no_in_batch_neg).toBe(g.members.every((f) => f.includes('no_in_batch_neg')));
    for (const l of readBatches(path.join(dir, 'out'), m)) expect(l.no_in_batch_neg).toBe(l.group.includes('no_in_batch_neg'));
  });
});

describe('logs', () => {
  it('--log-level silent keeps stderr empty on success; warn keeps only warnings', () => {
    const base = ['fixtures/retrieval', '--batch-size', '4', '--small-threshold', '12', '--drop-threshold', '20'];
    const silent = buildOk([...base, '--log-level', 'silent', '--out', path.join(tempDir(), 'out')]);
    expect(silent.stderr).toBe('');
    const warn = buildOk([...base, '--log-level', 'warn', '--out', path.join(tempDir(), 'out')]);
    const { logs, other } = parseStderr(warn.stderr);
    expect(other).toEqual([]);
    expect(logs.every((l) => l.level >= WARN)).toBe(true);
    // the dropped fever merge and nli's tail (30 = 7·4 + 2) are each reported
    expect(logs.some((l) => l.msg.includes('retrieval/<small:only_1neg>'))).toBe(true);
    expect(logs.some((l) => l.msg.includes('retrieval/nli.jsonl'))).toBe(true);
  });
});

describe('the records written', () => {
  it('unknown fields are carried through untouched', () => {
    const parent = tempDir();
    const recs = Array.from({ length: 4 }, (_, i) => ({ query: `q${i}`, pos: [`p${i}`], neg: [`n${i}`], extra: { nested: [i, 'x'] }, id: i }));
    fs.writeFileSync(path.join(parent, 'x.jsonl'), recs.map((r) => JSON.stringify(r)).join('\n'));
    buildOk(['x.jsonl', '--batch-size', '2', '--out', 'out'], { cwd: parent });
    const lines = readBatches(path.join(parent, 'out'));
    const got = lines.flatMap((l) => l.examples).sort((a, b) => (a.query < b.query ? -1 : 1));
    expect(got).toEqual(recs);
    expect(readRecords('x.jsonl', parent)).toHaveLength(4);
  });
});
