/**
 * The command-line shell: argv → options → build, and errors → exit codes. The only module that
 * touches process.exitCode.
 */
import { Command, CommanderError, Option } from 'commander';
import { build } from './build.js';
import cliProgress from 'cli-progress';
import { Interrupted, SamebatchError } from './errors.js';
import { createLogger } from './io/log.js';
import { BUILD_OPTIONS, resolveOptions, type BuildOptions } from './options.js';
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

Exit status: 0 success, 1 bad input data or a failed run, 2 bad usage.`;

function camel(flag: string): string {
  return flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function makeProgram(run: (paths: string[], raw: Record<string, unknown>) => Promise<void>): Command {
  const program = new Command('samebatch')
    .description('Pre-build same-dataset batches for contrastive embedding fine-tuning: each output line is one whole batch from one dataset.')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const cmd = program
    .command('build')
    .description('read FlagEmbedding-format data files and write shards of same-dataset batches')
    .argument('<paths...>', 'data files (.jsonl, .json, optionally .gz) and directories of them, in the order given')
    .exitOverride();
  for (const spec of BUILD_OPTIONS) {
    const shown = spec.defaultText ?? (spec.kind === 'flag' ? null : String(spec.default));
    const opt = new Option(spec.arg ? `${spec.flag} <${spec.arg}>` : spec.flag, shown === null ? spec.help : shown === 'required' ? `${spec.help} (required)` : `${spec.help} (default: ${shown})`);
    cmd.addOption(opt);
  }
  cmd.addHelpText('after', BUILD_EXAMPLES);
  cmd.action(async (paths: string[], raw: Record<string, unknown>) => run(paths, raw));
  return program;
}

/** Runs the CLI; returns the exit status (also set on process.exitCode). */
export async function main(argv: readonly string[]): Promise<number> {
  let status = 0;
  const program = makeProgram(async (paths, raw) => {
    const rawOptions: Partial<Record<keyof BuildOptions, unknown>> = {};
    for (const spec of BUILD_OPTIONS) rawOptions[spec.key] = raw[camel(spec.flag)];
    let options: BuildOptions;
    try {
      options = resolveOptions(rawOptions);
    } catch (err) {
      status = report(err, null);
      return;
    }
    const logger = createLogger(options.logLevel);
    const controller = new AbortController();
    const onSignal = (signal: 'SIGINT' | 'SIGTERM'): void => controller.abort(new Interrupted(signal));
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const progress = progressDisplay();
    try {
      await build(paths, options, { logger, stdout: process.stdout, signal: controller.signal, onProgress: progress.update });
    } catch (err) {
      status = report(err, logger);
    } finally {
      progress.stop();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
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
 * A progress bar on standard error, only when it is a terminal and the write stage takes more
 * than a moment; never on standard output.
 */
function progressDisplay(): { update: (stage: 'index' | 'write', done: number, total: number) => void; stop: () => void } {
  if (!process.stderr.isTTY || !(process.stderr.columns > 0)) return { update: () => {}, stop: () => {} };
  const startedAt = Date.now();
  let bar: cliProgress.SingleBar | null = null;
  let barStage = '';
  const stop = (): void => {
    bar?.stop();
    bar = null;
  };
  const formats = {
    index: 'reading  [{bar}] {percentage}% | {value}/{total} MB | {speed} MB/s | ETA {eta_formatted}',
    write: 'writing  [{bar}] {percentage}% | {value}/{total} steps | ETA {eta_formatted}',
  };
  return {
    update: (stage, done, total) => {
      const scale = stage === 'index' ? 1 / 1e6 : 1;
      if (bar !== null && barStage !== stage) stop();
      if (bar === null && done < total && Date.now() - startedAt > 1000) {
        bar = new cliProgress.SingleBar({ stream: process.stderr, format: formats[stage], hideCursor: true }, cliProgress.Presets.shades_classic);
        barStage = stage;
        bar.start(Math.round(total * scale), Math.round(done * scale), { speed: '0' });
      }
      const seconds = (Date.now() - startedAt) / 1000;
      bar?.update(Math.round(done * scale), { speed: seconds > 0 ? ((done * scale) / seconds).toFixed(0) : '0' });
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
