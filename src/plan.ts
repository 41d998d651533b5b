/**
 * `samebatch plan`: the stages of a build up to the plan (discover → index → cap → group →
 * counts), then a report instead of shards. Reads every record, so it fails exactly where build
 * would, and writes nothing.
 */
import { discoverInputs, prepare, type BuildEnv } from './build.js';
import { planReport, type PlanReport } from './core/report.js';
import { WorkDir } from './io/work-dir.js';
import { dataOptions, type BuildOptions } from './options.js';
import { VERSION } from './version.js';

export type PlanEnv = Omit<BuildEnv, 'stdout'>;

export async function plan(paths: readonly string[], options: BuildOptions, env: PlanEnv): Promise<PlanReport> {
  const discovery = discoverInputs(paths, options, env.logger);
  const work = new WorkDir();
  try {
    const { indexes, datasets, grouping, counts } = await prepare(discovery, options, env, work);
    return planReport({
      version: VERSION,
      options: dataOptions(options),
      indexes,
      kept: datasets.map((d) => d.kept.length),
      grouping,
      counts,
      passedOver: discovery.passedOver,
      epochs: options.epochs,
      worldSize: options.worldSize,
    });
  } finally {
    work.dispose();
  }
}
