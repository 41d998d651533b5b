/**
 * `samebatch plan`: the README's example inputs and options, as text and as JSON, against numbers
 * derived by hand from the fixture sizes (see test/e2e/readme.test.ts for the arithmetic); the
 * README's pasted table against a real run; and the same validation and exit codes as build.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, README_INPUTS, REPO, parseStderr, removeTempDirs, run, tempDir, WARN } from '../e2e/helpers.js';

afterAll(removeTempDirs);

const OPTIONS = ['--batch-size', '4', '--small-threshold', '12', '--drop-threshold', '20', '--epochs', '2'];
const R = 'fixtures/retrieval';
const C = 'fixtures/classification-no_in_batch_neg';
const K = 'fixtures/clustering-no_in_batch_neg';

interface Expected {
  id: string;
  examples: number;
  batch: number;
  batches: number;
  tail: number;
  type: string;
  noInBatchNeg: boolean;
}

// Per group: examples = sum of members; batch from the SPEC's rules (symmetric: 4 / 2 = 2;
// hotpotqa's batch_size field 3 is the merge's minimum); batches = floor(examples / batch) at
// world size 1; tail = the rest.
const GROUPS: Expected[] = [
  { id: 'retrieval/msmarco.jsonl', examples: 40, batch: 4, batches: 10, tail: 0, type: 'normal', noInBatchNeg: false },
  { id: 'retrieval/nli.jsonl', examples: 30, batch: 4, batches: 7, tail: 2, type: 'only_1neg', noInBatchNeg: false },
  { id: 'retrieval/<small:normal>', examples: 21, batch: 3, batches: 7, tail: 0, type: 'normal', noInBatchNeg: false },
  { id: 'sts.jsonl', examples: 25, batch: 2, batches: 12, tail: 1, type: 'symmetric_sts', noInBatchNeg: false },
  { id: 'classification-no_in_batch_neg/AmazonClassification.jsonl', examples: 24, batch: 2, batches: 12, tail: 0, type: 'symmetric_class', noInBatchNeg: true },
  { id: 'classification-no_in_batch_neg/Banking77Classification.jsonl', examples: 16, batch: 2, batches: 8, tail: 0, type: 'symmetric_class', noInBatchNeg: true },
  { id: 'classification-no_in_batch_neg/<small:symmetric_class>', examples: 21, batch: 2, batches: 10, tail: 1, type: 'symmetric_class', noInBatchNeg: true },
  { id: 'clustering-no_in_batch_neg/arXiv_title.jsonl', examples: 20, batch: 2, batches: 10, tail: 0, type: 'symmetric_clustering', noInBatchNeg: true },
  { id: 'clustering-no_in_batch_neg/bioRXiv_title.jsonl', examples: 14, batch: 2, batches: 7, tail: 0, type: 'symmetric_clustering', noInBatchNeg: true },
];
const STEPS_PER_EPOCH = 83; // 10 + 7 + 7 + 12 + 12 + 8 + 10 + 10 + 7
const EXAMPLES_PER_EPOCH = 207; // 217 records − 6 (fever, dropped) − 4 (tails 2 + 1 + 1)

// Per data file, in input order (directory listings sorted by code point): records, group.
const FILES: [string, number, string | null][] = [
  [`${R}/fever.jsonl`, 6, null],
  [`${R}/hotpotqa.jsonl`, 10, 'retrieval/<small:normal>'],
  [`${R}/msmarco.jsonl`, 40, 'retrieval/msmarco.jsonl'],
  [`${R}/nli.jsonl`, 30, 'retrieval/nli.jsonl'],
  [`${R}/nq.jsonl`, 11, 'retrieval/<small:normal>'],
  ['fixtures/sts/sts.jsonl', 25, 'sts.jsonl'],
  [`${C}/AmazonClassification.jsonl`, 24, 'classification-no_in_batch_neg/AmazonClassification.jsonl'],
  [`${C}/Banking77Classification.jsonl`, 16, 'classification-no_in_batch_neg/Banking77Classification.jsonl'],
  [`${C}/EmotionClassification.jsonl`, 11, 'classification-no_in_batch_neg/<small:symmetric_class>'],
  [`${C}/TweetSentimentClassification.jsonl`, 10, 'classification-no_in_batch_neg/<small:symmetric_class>'],
  [`${K}/arXiv_title.jsonl`, 20, 'clustering-no_in_batch_neg/arXiv_title.jsonl'],
  [`${K}/bioRXiv_title.jsonl`, 14, 'clustering-no_in_batch_neg/bioRXiv_title.jsonl'],
];

/** The lines of one titled block of the text report (up to the next blank line), without the title. */
function block(text: string, title: string): string[] {
  const lines = text.split('\n');
  const at = lines.indexOf(title);
  expect(at, `a "${title}" block`).toBeGreaterThan(0);
  const end = lines.indexOf('', at);
  return lines.slice(at + 1, end < 0 ? undefined : end);
}

/** A table row's cells (columns are separated by two or more spaces). */
function cells(row: string | undefined): string[] {
  return (row ?? '').trim().split(/\s{2,}/);
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

describe('samebatch plan (README example)', () => {
  const cwd = tempDir('samebatch-plan-');
  const text = run(['plan', ...README_INPUTS, ...OPTIONS]);
  const json = run(['plan', ...README_INPUTS, ...OPTIONS, '--json']);

  it('exits 0 with the report on stdout and only logs on stderr', () => {
    expect(text.status, text.stderr).toBe(0);
    expect(json.status, json.stderr).toBe(0);
    expect(parseStderr(text.stderr).other).toEqual([]);
    // the same deliberate losses are warned about as in a build
    const warnings = parseStderr(text.stderr).logs.filter((l) => l.level === WARN).map((l) => l.msg);
    expect(warnings.some((w) => w.includes('retrieval/<small:only_1neg>'))).toBe(true);
    expect(text.stdout.startsWith('plan: 12 data files, 9 groups, 83 steps per epoch × 2 epochs = 166 steps (world size 1); 207 of 217 examples used per epoch\n')).toBe(true);
  });

  it('lists every data file with its records, group, batch sizes, flag and type', () => {
    const rows = block(text.stdout, 'data files');
    expect(cells(rows[0])).toEqual(['path', 'records', 'group', 'batch', 'global', 'no_in_batch_neg', 'type']);
    expect(rows.slice(1).map((r) => cells(r)[0])).toEqual(FILES.map(([p]) => p));
    for (const [i, [p, records, group]] of FILES.entries()) {
      const row = cells(rows[i + 1]);
      expect(row[1], p).toBe(String(records));
      if (group === null) {
        expect(row.slice(2), p).toEqual(['dropped (retrieval/<small:only_1neg>)', '-', '-', 'no', 'only_1neg']);
        continue;
      }
      const g = GROUPS.find((x) => x.id === group) as Expected;
      expect(row.slice(2), p).toEqual([group, String(g.batch), String(g.batch), g.noInBatchNeg ? 'yes' : 'no', g.type]);
    }
  });

  it('lists every group with batches, tail and its share of the steps and examples', () => {
    const rows = block(text.stdout, 'groups');
    expect(rows).toHaveLength(1 + GROUPS.length + 1);
    for (const [i, g] of GROUPS.entries()) {
      expect(cells(rows[i + 1])).toEqual([
        g.id,
        String(g.examples),
        String(g.batch),
        String(g.batch),
        String(g.batches),
        String(g.tail),
        pct(g.batches / STEPS_PER_EPOCH),
        pct((g.batches * g.batch) / EXAMPLES_PER_EPOCH),
        g.noInBatchNeg ? 'yes' : 'no',
        g.type,
      ]);
    }
    // msmarco: 10 of 83 steps = 12.0%, 40 of 207 examples = 19.3%
    expect(cells(rows[1]).slice(6, 8)).toEqual(['12.0%', '19.3%']);
    expect(cells(rows[rows.length - 1])).toEqual(['all groups', '211', '83', '4', '100.0%', '100.0%']);
  });

  it('lists what is left out with the reason, and the totals', () => {
    const left = block(text.stdout, 'left out');
    expect(left).toHaveLength(2);
    expect(cells(left[1])).toEqual(['dropped', `retrieval/<small:only_1neg> (${R}/fever.jsonl)`, '6', 'merged small files hold 6 examples, fewer than --drop-threshold 20']);
    const totals = Object.fromEntries(block(text.stdout, 'totals').map((l) => cells(l)));
    expect(totals).toEqual({
      'data files': '12',
      records: '217',
      'records in groups': '211',
      'records in skipped files': '0',
      'records in dropped groups': '6',
      groups: '9',
      'steps per epoch': '83',
      epochs: '2',
      steps: '166',
      'examples per epoch': '207',
      'tail left out per epoch': '4',
    });
  });

  it('--json gives the same numbers in the documented schema', () => {
    const r = JSON.parse(json.stdout) as Record<string, any>;
    expect(Object.keys(r)).toEqual(['tool', 'report', 'format', 'version', 'options', 'files', 'groups', 'skipped', 'dropped', 'passed_over', 'totals']);
    expect(r).toMatchObject({ tool: 'samebatch', report: 'plan', format: 1 });
    expect(r.options).toMatchObject({ batch_size: 4, world_size: 1, epochs: 2, small_threshold: 12, drop_threshold: 20 });
    expect(r.files.map((f: any) => [f.path, f.records, f.status === 'grouped' ? f.group : null])).toEqual(FILES);
    expect(r.files[0]).toEqual({
      path: `${R}/fever.jsonl`,
      id: 'retrieval/fever.jsonl',
      records: 6,
      invalid: 0,
      kept: 6,
      type: 'only_1neg',
      no_in_batch_neg: false,
      status: 'dropped',
      group: 'retrieval/<small:only_1neg>',
      batch_size: null,
      global_batch_size: null,
    });
    expect(r.files[1]).toMatchObject({ status: 'grouped', group: 'retrieval/<small:normal>', batch_size: 3, global_batch_size: 3 });
    expect(r.groups).toHaveLength(GROUPS.length);
    for (const [i, g] of GROUPS.entries()) {
      expect(r.groups[i]).toMatchObject({
        id: g.id,
        examples: g.examples,
        type: g.type,
        no_in_batch_neg: g.noInBatchNeg,
        batch_size: g.batch,
        global_batch_size: g.batch,
        batches_per_epoch: g.batches,
        tail_left_out_per_epoch: g.tail,
      });
      expect(r.groups[i].share_of_steps).toBeCloseTo(g.batches / STEPS_PER_EPOCH, 12);
      expect(r.groups[i].share_of_examples).toBeCloseTo((g.batches * g.batch) / EXAMPLES_PER_EPOCH, 12);
    }
    expect(r.groups[2].members).toEqual([`${R}/hotpotqa.jsonl`, `${R}/nq.jsonl`]);
    expect(r.skipped).toEqual([]);
    expect(r.passed_over).toEqual([]);
    expect(r.dropped).toEqual([{ id: 'retrieval/<small:only_1neg>', members: [`${R}/fever.jsonl`], records: 6, reason: expect.stringContaining('--drop-threshold 20') }]);
    expect(r.totals).toEqual({
      files: 12,
      records: 217,
      records_invalid: 0,
      records_kept: 217,
      records_in_groups: 211,
      records_skipped: 0,
      records_dropped: 6,
      groups: 9,
      epochs: 2,
      world_size: 1,
      steps_per_epoch: STEPS_PER_EPOCH,
      steps: STEPS_PER_EPOCH * 2,
      examples_per_epoch: EXAMPLES_PER_EPOCH,
      tail_left_out_per_epoch: 4,
    });
  });

  it('writes nothing: run from an empty directory, it stays empty', () => {
    const r = run(['plan', ...README_INPUTS.map((p) => path.join(REPO, p)), ...OPTIONS, '--log-level', 'silent'], { cwd });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(fs.readdirSync(cwd)).toEqual([]);
  });

  it('matches the table pasted in README.md, produced by the command shown above it', () => {
    const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('\n## Before a run: `samebatch plan`\n'));
    const m = /```sh\n(\.\/bin\/samebatch\.js plan [^\n]*)\n```\n\n```text\n([\s\S]*?)```/.exec(section);
    expect(m, 'a ```sh plan command followed by a ```text block').not.toBeNull();
    const args = (m?.[1] ?? '').split(/\s+/).slice(1);
    expect(args).toEqual(['plan', ...README_INPUTS, ...OPTIONS]);
    const r = run(args);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(m?.[2]);
    expect(fs.existsSync(BIN)).toBe(true);
  });
});

describe('samebatch plan: validation and exit codes as build', () => {
  const corpus = path.join(REPO, 'test', 'bad-input', 'corpus');

  /** The `samebatch: error ...` line of stderr. */
  const errorLine = (stderr: string): string | undefined => stderr.split('\n').find((l) => l.startsWith('samebatch: error'));

  it.each([
    { name: 'a bad record', args: ['query-number.jsonl'], status: 1, code: 'E_FIELD' },
    { name: 'records that disagree on batch_size', args: ['batch-size-differs.jsonl'], status: 1, code: 'E_BATCH_SIZE' },
    { name: 'no group fills one global batch', args: ['good.jsonl', '--batch-size', '100'], status: 1, code: 'E_NO_BATCHES' },
    { name: 'a missing path', args: ['no-such-file.jsonl'], status: 2, code: 'E_PATH_MISSING' },
    { name: 'a bad option value', args: ['good.jsonl', '--batch-size', '0'], status: 2, code: 'E_OPTION' },
  ])('$name: exit $status with $code, the same error line as build', ({ args, status, code }) => {
    const p = run(['plan', ...args], { cwd: corpus });
    const out = path.join(tempDir('samebatch-plan-'), 'out');
    const b = run(['build', ...args, '--out', out], { cwd: corpus });
    expect(p.status, p.stderr).toBe(status);
    expect(b.status, b.stderr).toBe(status);
    expect(errorLine(p.stderr)).toMatch(new RegExp(`^samebatch: error ${code}: `));
    expect(errorLine(p.stderr)).toBe(errorLine(b.stderr));
    expect(p.stdout).toBe('');
  });

  it('with --skip-invalid, counts the invalid records per file (and the capped ones with a cap)', () => {
    const skip = path.join(REPO, 'test', 'bad-input', 'skip');
    // mixed.jsonl: 10 good and 7 bad records, capped at 9; clean.jsonl: 8 good. Batch size 2:
    // mixed 9 → 4 batches + tail 1; clean 8 → 4 batches.
    const r = run(['plan', 'mixed.jsonl', 'clean.jsonl', '--skip-invalid', '--max-examples-per-dataset', '9', '--batch-size', '2'], { cwd: skip });
    expect(r.status, r.stderr).toBe(0);
    const rows = block(r.stdout, 'data files');
    expect(cells(rows[0])).toEqual(['path', 'records', 'invalid', 'kept', 'group', 'batch', 'global', 'no_in_batch_neg', 'type']);
    expect(cells(rows[1])).toEqual(['mixed.jsonl', '10', '7', '9', 'mixed.jsonl', '2', '2', 'no', '-']);
    expect(cells(rows[2])).toEqual(['clean.jsonl', '8', '0', '8', 'clean.jsonl', '2', '2', 'no', '-']);
    const totals = Object.fromEntries(block(r.stdout, 'totals').map((l) => cells(l)));
    expect(totals).toMatchObject({ records: '18', 'records invalid (skipped)': '7', 'records kept (after the cap)': '17', steps: '8' });
  });

  it('refuses build-only options (--out, --force, --if-changed) as bad usage', () => {
    for (const opt of [['--out', 'x'], ['--force'], ['--if-changed']]) {
      const r = run(['plan', 'fixtures/sts/sts.jsonl', ...opt]);
      expect(r.status, opt.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/unknown option/);
    }
    expect(run(['plan']).status).toBe(2);
  });
});
