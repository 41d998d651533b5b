/**
 * The plan report: what a build with these inputs and options would write, before anything is
 * written. Pure: made from the prepared run's plain data (the same the manifest is made from),
 * and rendered as aligned text tables or returned as JSON (schema in README, "samebatch plan").
 */
import type { FileIndex, Grouping, PassedOver, DroppedGroup, SkippedFile } from '../types.js';
import type { GroupCounts } from './plan.js';
import { describeGroup, type ManifestGroup } from './manifest.js';

export const PLAN_REPORT_FORMAT = 1;

export interface PlanReportInput {
  version: string;
  /** The data-shaping options, as the manifest records them (snake_case keys). */
  options: Record<string, unknown>;
  indexes: readonly FileIndex[];
  /** Per data file: records kept after the example cap. */
  kept: readonly number[];
  grouping: Grouping;
  counts: readonly GroupCounts[];
  passedOver: readonly PassedOver[];
  epochs: number;
  worldSize: number;
}

export type FileStatus = 'grouped' | 'skipped' | 'dropped';

export interface PlanFile {
  path: string;
  id: string;
  records: number;
  /** Records skipped as invalid under --skip-invalid (0 otherwise). */
  invalid: number;
  /** Records after the example cap. */
  kept: number;
  type: string | null;
  no_in_batch_neg: boolean;
  status: FileStatus;
  /** The group joined; for a dropped file, the dropped merged group; null when skipped. */
  group: string | null;
  /** The group's per-device and global batch size (null unless grouped). */
  batch_size: number | null;
  global_batch_size: number | null;
}

export interface PlanGroup extends ManifestGroup {
  /** batches_per_epoch / steps_per_epoch: the group's share of training steps (the effective mixture). */
  share_of_steps: number;
  /** Examples the group contributes per epoch / examples_per_epoch. */
  share_of_examples: number;
}

export interface PlanTotals {
  files: number;
  records: number;
  records_invalid: number;
  records_kept: number;
  records_in_groups: number;
  records_skipped: number;
  records_dropped: number;
  groups: number;
  epochs: number;
  world_size: number;
  steps_per_epoch: number;
  steps: number;
  examples_per_epoch: number;
  tail_left_out_per_epoch: number;
}

export interface PlanReport {
  tool: 'samebatch';
  report: 'plan';
  format: number;
  version: string;
  options: Record<string, unknown>;
  files: PlanFile[];
  groups: PlanGroup[];
  skipped: SkippedFile[];
  dropped: DroppedGroup[];
  passed_over: PassedOver[];
  totals: PlanTotals;
}

export function planReport(p: PlanReportInput): PlanReport {
  const stepsPerEpoch = p.counts.reduce((n, c) => n + c.batchesPerEpoch, 0);
  const examplesPerEpoch = p.counts.reduce((n, c) => n + c.batchesPerEpoch * c.globalBatchSize, 0);
  const groupOfFile = new Map<number, number>();
  p.grouping.groups.forEach((g, gi) => {
    for (const d of g.members) groupOfFile.set(d.fileIndex, gi);
  });
  const droppedOf = new Map<string, DroppedGroup>();
  for (const d of p.grouping.dropped) for (const member of d.members) droppedOf.set(member, d);

  const files = p.indexes.map((ix, i): PlanFile => {
    const gi = groupOfFile.get(i);
    const g = gi === undefined ? undefined : p.grouping.groups[gi];
    const c = gi === undefined ? undefined : p.counts[gi];
    const dropped = droppedOf.get(ix.file.path);
    const status: FileStatus = g !== undefined ? 'grouped' : dropped !== undefined ? 'dropped' : 'skipped';
    return {
      path: ix.file.path,
      id: ix.file.id,
      records: ix.records,
      invalid: ix.invalid.count,
      kept: p.kept[i] ?? ix.records,
      type: ix.type,
      no_in_batch_neg: ix.file.noInBatchNeg,
      status,
      group: g?.id ?? dropped?.id ?? null,
      batch_size: g?.batchSize ?? null,
      global_batch_size: c?.globalBatchSize ?? null,
    };
  });

  const groups = p.grouping.groups.map((g, i): PlanGroup => {
    const c = p.counts[i] as GroupCounts;
    return {
      ...describeGroup(g, c, p.indexes),
      share_of_steps: stepsPerEpoch === 0 ? 0 : c.batchesPerEpoch / stepsPerEpoch,
      share_of_examples: examplesPerEpoch === 0 ? 0 : (c.batchesPerEpoch * c.globalBatchSize) / examplesPerEpoch,
    };
  });

  const sum = <T>(xs: readonly T[], f: (x: T) => number): number => xs.reduce((n, x) => n + f(x), 0);
  return {
    tool: 'samebatch',
    report: 'plan',
    format: PLAN_REPORT_FORMAT,
    version: p.version,
    options: p.options,
    files,
    groups,
    skipped: p.grouping.skipped,
    dropped: p.grouping.dropped,
    passed_over: [...p.passedOver],
    totals: {
      files: files.length,
      records: sum(files, (f) => f.records),
      records_invalid: sum(files, (f) => f.invalid),
      records_kept: sum(files, (f) => f.kept),
      records_in_groups: sum(groups, (g) => g.examples),
      records_skipped: sum(p.grouping.skipped, (s) => s.records),
      records_dropped: sum(p.grouping.dropped, (d) => d.records),
      groups: groups.length,
      epochs: p.epochs,
      world_size: p.worldSize,
      steps_per_epoch: stepsPerEpoch,
      steps: stepsPerEpoch * p.epochs,
      examples_per_epoch: examplesPerEpoch,
      tail_left_out_per_epoch: sum(groups, (g) => g.tail_left_out_per_epoch),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// text

interface Column {
  title: string;
  right?: boolean;
}

/** Columns padded to their widest cell, numbers right-aligned, two spaces between columns. */
export function alignedTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string[] {
  const widths = columns.map((c, i) => Math.max(c.title.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    columns
      .map((c, i) => {
        const cell = cells[i] ?? '';
        const w = widths[i] ?? 0;
        return c.right ? cell.padStart(w) : cell.padEnd(w);
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.title)), ...rows.map(line)];
}

function percent(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

function yesNo(b: boolean): string {
  return b ? 'yes' : 'no';
}

function orDash(v: string | number | null): string {
  return v === null ? '-' : String(v);
}

function plural(n: number, word: string): string {
  return `${n} ${n === 1 ? word : `${word}s`}`;
}

/**
 * The report as text for people: a summary line, then data files, groups, what is left out, and
 * totals. Columns for invalid and capped records appear only when --skip-invalid or
 * --max-examples-per-dataset can make them differ from the records read.
 */
export function renderPlanText(r: PlanReport): string {
  const showInvalid = r.options.skip_invalid === true;
  const showKept = r.options.max_examples_per_dataset !== null && r.options.max_examples_per_dataset !== undefined;
  const t = r.totals;
  const out: string[] = [];
  out.push(
    `plan: ${plural(t.files, 'data file')}, ${plural(t.groups, 'group')}, ` +
      `${t.steps_per_epoch} steps per epoch × ${plural(t.epochs, 'epoch')} = ${plural(t.steps, 'step')} ` +
      `(world size ${t.world_size}); ${t.examples_per_epoch} of ${t.records_kept} examples used per epoch`,
  );

  out.push('', 'data files');
  const fileColumns: Column[] = [
    { title: 'path' },
    { title: 'records', right: true },
    ...(showInvalid ? [{ title: 'invalid', right: true }] : []),
    ...(showKept ? [{ title: 'kept', right: true }] : []),
    { title: 'group' },
    { title: 'batch', right: true },
    { title: 'global', right: true },
    { title: 'no_in_batch_neg' },
    { title: 'type' },
  ];
  out.push(
    ...alignedTable(
      fileColumns,
      r.files.map((f) => [
        f.path,
        String(f.records),
        ...(showInvalid ? [String(f.invalid)] : []),
        ...(showKept ? [String(f.kept)] : []),
        f.status === 'grouped' ? orDash(f.group) : f.status === 'dropped' ? `dropped (${f.group ?? ''})` : 'skipped',
        orDash(f.batch_size),
        orDash(f.global_batch_size),
        yesNo(f.no_in_batch_neg),
        orDash(f.type),
      ]),
    ),
  );

  out.push('', 'groups');
  const groupRows = r.groups.map((g) => [
    g.id,
    String(g.examples),
    String(g.batch_size),
    String(g.global_batch_size),
    String(g.batches_per_epoch),
    String(g.tail_left_out_per_epoch),
    percent(g.share_of_steps),
    percent(g.share_of_examples),
    yesNo(g.no_in_batch_neg),
    orDash(g.type),
  ]);
  groupRows.push([
    'all groups',
    String(t.records_in_groups),
    '',
    '',
    String(t.steps_per_epoch),
    String(t.tail_left_out_per_epoch),
    r.groups.length === 0 ? '' : percent(1),
    r.groups.length === 0 ? '' : percent(1),
    '',
    '',
  ]);
  out.push(
    ...alignedTable(
      [
        { title: 'group' },
        { title: 'examples', right: true },
        { title: 'batch', right: true },
        { title: 'global', right: true },
        { title: 'batches/epoch', right: true },
        { title: 'tail/epoch', right: true },
        { title: 'share of steps', right: true },
        { title: 'share of examples', right: true },
        { title: 'no_in_batch_neg' },
        { title: 'type' },
      ],
      groupRows,
    ),
  );

  out.push('', 'left out');
  const leftOut: string[][] = [
    ...r.skipped.map((s) => ['skipped', s.path, String(s.records), s.reason]),
    ...r.dropped.map((d) => ['dropped', `${d.id} (${d.members.join(', ')})`, String(d.records), d.reason]),
    ...r.passed_over.map((p) => ['passed over', p.path, '', p.reason]),
  ];
  if (leftOut.length === 0) out.push('nothing skipped, dropped or passed over');
  else out.push(...alignedTable([{ title: 'what' }, { title: 'path or group' }, { title: 'records', right: true }, { title: 'reason' }], leftOut));

  out.push('', 'totals');
  const totals: [string, number][] = [
    ['data files', t.files],
    ['records', t.records],
    ...(showInvalid ? ([['records invalid (skipped)', t.records_invalid]] as [string, number][]) : []),
    ...(showKept ? ([['records kept (after the cap)', t.records_kept]] as [string, number][]) : []),
    ['records in groups', t.records_in_groups],
    ['records in skipped files', t.records_skipped],
    ['records in dropped groups', t.records_dropped],
    ['groups', t.groups],
    ['steps per epoch', t.steps_per_epoch],
    ['epochs', t.epochs],
    ['steps', t.steps],
    ['examples per epoch', t.examples_per_epoch],
    ['tail left out per epoch', t.tail_left_out_per_epoch],
  ];
  out.push(...alignedTable([{ title: '' }, { title: '', right: true }], totals.map(([k, v]) => [k, String(v)])).slice(1));
  return `${out.join('\n')}\n`;
}
