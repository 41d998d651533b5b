/**
 * The command-line shell: argv → options → build, and errors → exit codes. The only module that
 * touches process.exitCode.
 */
import { Command, CommanderError, Option } from 'commander';
import { build } from './build.js';
import { renderPlanText } from './core/report.js';
import { plan } from './plan.js';
import { verify } from './verify.js';
import cliProgress from 'cli-progress';
import { Interrupted, SamebatchError } from './errors.js';
import { createLogger, type Logger } from './io/log.js';
import { BUILD_OPTIONS, FOR_VERIFY, NOT_FOR_PLAN, PLAN_ONLY_OPTIONS, resolveOptions, type BuildOptions, type OptionSpec } from './options.js';
import { VERSION } from './version.js';

const BUILD_EXAMPLES = `
Examples:
  # every file of each directory is a dataset; small ones merge per (directory, type)
  samebatch build data/retrieval data/sts/sts.jsonl data/classification-no_in_batch_neg \\
    --batch-size 32 --world-size 8 --small-threshold 1000 --drop-threshold 256 --epochs 2 --out shards

  # stream batch lines into another tool; logs stay on stderr
  samebatch build data/retrieval --out - | head -n 1 | jq '.group, (.examples | length)'

  # replace an earlier output, with provenance for every example
  samebatch build data --recursive --provenance --out shards --force

  # for make and CI: nothing is done when the inputs (by content) and options are unchanged
  samebatch build data --batch-size 32 --out shards --if-changed

Exit status: 0 success, 1 bad input data or a failed run, 2 bad usage.`;

function camel(flag: string): string {
  return flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

const PLAN_EXAMPLES = `
Examples:
  # what a build with these inputs and options would write: data files, groups, what is left out, totals
  samebatch plan data/retrieval data/sts/sts.jsonl --batch-size 32 --world-size 8 --small-threshold 1000

  # the same as JSON: each group's share of the training steps
  samebatch plan data --recursive --batch-size 32 --json | jq '.groups[] | {id, share_of_steps}'

Exit status: 0 success, 1 bad input data (as build), 2 bad usage.`;

const VERIFY_EXAMPLES = `
Examples:
  samebatch build data --batch-size 32 --out shards && samebatch verify shards

Exit status: 0 every check holds, 1 a check failed (the message names the shard:line and the rule), 2 bad usage.`;

interface Handlers {
  build: (paths: string[], raw: Record<string, unknown>) => Promise<void>;
  plan: (paths: string[], raw: Record<string, unknown>) => Promise<void>;
  verify: (dir: string, raw: Record<string, unknown>) => Promise<void>;
}

/** Adds the build options `keep` selects, from the one option table. */
function addBuildOptions(cmd: Command, keep: (spec: OptionSpec) => boolean): void {
  for (const spec of BUILD_OPTIONS) {
    if (!keep(spec)) continue;
    const shown = spec.defaultText ?? (spec.kind === 'flag' ? null : String(spec.default));
    const opt = new Option(spec.arg ? `${spec.flag} <${spec.arg}>` : spec.flag, shown === null ? spec.help : shown === 'required' ? `${spec.help} (required)` : `${spec.help} (default: ${shown})`);
    cmd.addOption(opt);
  }
}

function makeProgram(run: Handlers): Command {
  const program = new Command('samebatch')
    .description('Pre-build same-dataset batches for contrastive embedding fine-tuning: each output line is one whole batch from one dataset.')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  // Usage errors in the same form as every other error: "samebatch: error CODE: ...".
  const output = {
    outputError: (text: string, write: (s: string) => void): void => write(`samebatch: error E_USAGE: ${text.replace(/^error: /, '')}`),
  };
  program.configureOutput(output);
  const cmd = program
    .command('build')
    .description('read FlagEmbedding-format data files and write shards of same-dataset batches')
    .argument('<paths...>', 'data files (.jsonl, .json, optionally .gz) and directories of them, in the order given')
    .exitOverride();
  addBuildOptions(cmd, () => true);
  cmd.addHelpText('after', BUILD_EXAMPLES);
  cmd.action(async (paths: string[], raw: Record<string, unknown>) => run.build(paths, raw));

  const planCmd = program
    .command('plan')
    .description('read and check the inputs as build would, and report what it would write (per data file, per group, what is left out, totals); writes nothing')
    .argument('<paths...>', 'data files and directories, as for build')
    .exitOverride();
  addBuildOptions(planCmd, (spec) => !NOT_FOR_PLAN.has(spec.key));
  for (const o of PLAN_ONLY_OPTIONS) planCmd.addOption(new Option(o.flag, o.help));
  planCmd.addHelpText('after', PLAN_EXAMPLES);
  planCmd.action(async (paths: string[], raw: Record<string, unknown>) => run.plan(paths, raw));

  const verifyCmd = program
    .command('verify')
    .description('check an output directory against its manifest: every shard\'s bytes and sha256, counts, and the batch invariants')
    .argument('<dir>', 'an output directory written by samebatch build')
    .exitOverride();
  addBuildOptions(verifyCmd, (spec) => FOR_VERIFY.has(spec.key));
  verifyCmd.addHelpText('after', VERIFY_EXAMPLES);
  verifyCmd.action(async (dir: string, raw: Record<string, unknown>) => run.verify(dir, raw));
  return program;
}

/** Commander's values for the build options `keep` selects, keyed as BuildOptions. */
function rawBuildOptions(raw: Record<string, unknown>, keep: (spec: OptionSpec) => boolean): Partial<Record<keyof BuildOptions, unknown>> {
  const out: Partial<Record<keyof BuildOptions, unknown>> = {};
  for (const spec of BUILD_OPTIONS) if (keep(spec)) out[spec.key] = raw[camel(spec.flag)];
  return out;
}

interface RunContext {
  logger: Logger;
  signal: AbortSignal;
  onProgress: (stage: 'index' | 'write', done: number, total: number) => void;
}

/**
 * Validates the options, then runs `work` with a logger, signal handlers and a progress display,
 * and maps what it throws to an exit status.
 */
async function execute(raw: Partial<Record<keyof BuildOptions, unknown>>, work: (options: BuildOptions, ctx: RunContext) => Promise<void>): Promise<number> {
  let options: BuildOptions;
  try {
    options = resolveOptions(raw);
  } catch (err) {
    return report(err, null);
  }
  const logger = createLogger(options.logLevel);
  const controller = new AbortController();
  const onSignal = (signal: 'SIGINT' | 'SIGTERM'): void => controller.abort(new Interrupted(signal));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const progress = progressDisplay();
  try {
    await work(options, { logger, signal: controller.signal, onProgress: progress.update });
    return 0;
  } catch (err) {
    return report(err, logger);
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Writes a report to standard output; a reader that closed the pipe (EPIPE) is no failure. */
function writeStdout(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      if (err.code === 'EPIPE') resolve();
      else reject(new SamebatchError('E_WRITE', `standard output: write failed (${err.code ?? 'error'}): ${err.message}`, { cause: err }));
    };
    process.stdout.on('error', onError);
    process.stdout.write(text, (err) => {
      if (err) return onError(err);
      process.stdout.off('error', onError);
      resolve();
    });
  });
}

/** Runs the CLI; returns the exit status (also set on process.exitCode). */
export async function main(argv: readonly string[]): Promise<number> {
  let status = 0;
  const program = makeProgram({
    build: async (paths, raw) => {
      status = await execute(rawBuildOptions(raw, () => true), async (options, ctx) => {
        await build(paths, options, { ...ctx, stdout: process.stdout });
      });
    },
    plan: async (paths, raw) => {
      // plan writes nothing: it resolves as a build to standard output would.
      status = await execute({ ...rawBuildOptions(raw, (spec) => !NOT_FOR_PLAN.has(spec.key)), out: '-' }, async (options, ctx) => {
        const planned = await plan(paths, options, ctx);
        await writeStdout(raw.json === true ? `${JSON.stringify(planned, null, 2)}\n` : renderPlanText(planned));
      });
    },
    verify: async (dir, raw) => {
      status = await execute({ ...rawBuildOptions(raw, (spec) => FOR_VERIFY.has(spec.key)), out: '-' }, async (_options, ctx) => {
        const result = await verify(dir, ctx);
        await writeStdout(`${result.summary}\n`);
      });
    },
  });
  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) {
      status = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? 0 : 2;
    } else {
      status = report(err, null);
    }
  }
  process.exitCode = status;
  return status;
}

/**
 * A progress bar on standard error (reading, then writing), only when it is a terminal and the
 * run takes more than a moment; never on standard output.
 */
function progressDisplay(): { update: (stage: 'index' | 'write', done: number, total: number, records?: number) => void; stop: () => void } {
  if (!process.stderr.isTTY || !(process.stderr.columns > 0)) return { update: () => {}, stop: () => {} };
  const startedAt = Date.now();
  let stageStart = { stage: '', at: startedAt };
  let bar: cliProgress.SingleBar | null = null;
  const stop = (): void => {
    bar?.stop();
    bar = null;
  };
  const formats = {
    index: 'reading  [{bar}] {percentage}% | {value}/{total} MB | {records} records | {speed} MB/s | ETA {eta_formatted}',
    write: 'writing  [{bar}] {percentage}% | {value}/{total} steps | {speed} steps/s | ETA {eta_formatted}',
  };
  return {
    update: (stage, done, total, records = 0) => {
      const now = Date.now();
      if (stageStart.stage !== stage) {
        stop();
        stageStart = { stage, at: now };
      }
      const scale = stage === 'index' ? 1 / 1e6 : 1;
      const seconds = (now - stageStart.at) / 1000;
      const payload = { records, speed: seconds > 0 ? ((done * scale) / seconds).toFixed(0) : '0' };
      if (bar === null && done < total && now - startedAt > 1000) {
        bar = new cliProgress.SingleBar({ stream: process.stderr, format: formats[stage], hideCursor: true }, cliProgress.Presets.shades_classic);
        bar.start(Math.round(total * scale), Math.round(done * scale), payload);
      }
      bar?.update(Math.round(done * scale), payload);
      if (done >= total) stop();
    },
    stop,
  };
}

function report(err: unknown, logger: ReturnType<typeof createLogger> | null): number {
  if (err instanceof Interrupted) {
    logger?.warn({ signal: err.signal }, `${err.message}: temporary files removed, earlier output untouched`);
    return err.exitCode;
  }
  if (err instanceof SamebatchError) {
    logger?.error({ code: err.code, ...err.location }, err.message);
    process.stderr.write(`samebatch: error ${err.code}: ${err.message}\n${err.detail ? `${err.detail}\n` : ''}`);
    return err.exitCode;
  }
  const e = err as Error;
  logger?.fatal({ err: e }, 'internal error');
  process.stderr.write(`samebatch: internal error: ${e?.stack ?? String(err)}\n`);
  return 1;
}
