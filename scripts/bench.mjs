#!/usr/bin/env node
// npm run bench [-- --size 1G --runs 3 --jobs-check]
//
// Generates a deterministic synthetic corpus in FlagEmbedding format (many directories, a skewed
// file-size distribution so that some files fall under the thresholds, realistic lengths: a
// query of 5-15 words, 1 positive and 7 negatives of 40-90 words, scores, prompt, type; about
// 3 KB a record), then measures side by side, in the same run:
//   (a) the floor: one process that reads every line and JSON.parses it, nothing else;
//   (b) samebatch build on the same corpus with thresholds, 2 epochs, world size 8.
// Prints corpus size, records, wall seconds, MB/s and peak RSS of each (median of --runs), the
// ratio b/a, and (with --jobs-check) whether --jobs 1 and --jobs 2 write the same bytes.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import seedrandom from 'seedrandom';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const parseSize = (t) => {
  const m = /^(\d+(?:\.\d+)?)([KMG]?)$/i.exec(t);
  if (!m) throw new Error(`--size: expected e.g. 1G, 300M, got ${t}`);
  return Math.round(Number(m[1]) * { '': 1, K: 1e3, M: 1e6, G: 1e9 }[m[2].toUpperCase()]);
};
const targetBytes = parseSize(arg('--size', '1G'));
const runs = Number(arg('--runs', '3'));
const jobsCheck = args.includes('--jobs-check');
const workDir = path.resolve(arg('--dir', path.join(root, '.bench')));

// ---- corpus -------------------------------------------------------------------------------
const WORDS = ('time year people way day man thing woman life child world school state family student group country ' +
  'problem hand part place case week company system program question work government number night point home ' +
  'water room mother area money story fact month lot right study book eye job word business issue side kind head ' +
  'house service friend father power hour game line end member law car city community name president team minute ' +
  'idea kid body information back parent face others level office door health person art war history party result ' +
  'change morning reason research girl guy moment air teacher force education protein enzyme river market bridge ' +
  'déjà naïve café Zürich København 東京 数据 модель résumé').split(' ');

function corpusDir(bytes) {
  return path.join(workDir, `corpus-${bytes}`);
}

function generate(bytes) {
  const dir = corpusDir(bytes);
  const done = path.join(dir, '.complete');
  if (fs.existsSync(done)) return dir;
  fs.rmSync(dir, { recursive: true, force: true });
  const rng = seedrandom.alea(`samebatch-bench-${bytes}`);
  const words = (lo, hi) => {
    const n = lo + Math.floor(rng() * (hi - lo + 1));
    let s = '';
    for (let i = 0; i < n; i++) s += (i ? ' ' : '') + WORDS[Math.floor(rng() * WORDS.length)];
    return s;
  };
  const TYPES = ['normal', 'normal', 'normal', 'only_1neg', 'symmetric_sts', 'symmetric_class', 'symmetric_clustering'];
  const dirs = 16;
  // Zipf-like file sizes: a few large files, a long tail of small ones.
  const files = [];
  for (let d = 0; d < dirs; d++) for (let f = 0; f < 12; f++) files.push({ d, f, weight: 1 / (1 + f) ** 1.6 / (1 + (d % 5)) });
  const totalWeight = files.reduce((n, x) => n + x.weight, 0);
  let written = 0;
  for (const { d, f, weight } of files) {
    const sub = path.join(dir, `${d % 4 === 3 ? `set${d}-no_in_batch_neg` : `set${d}`}`);
    fs.mkdirSync(sub, { recursive: true });
    const type = TYPES[(d + f) % TYPES.length];
    const fd = fs.openSync(path.join(sub, `part-${String(f).padStart(2, '0')}.jsonl`), 'w');
    const budget = (bytes * weight) / totalWeight;
    let fileBytes = 0;
    let chunk = [];
    let chunkBytes = 0;
    while (fileBytes < budget) {
      const negs = type === 'only_1neg' ? 1 : 7;
      const neg = Array.from({ length: negs }, () => words(40, 90));
      const rec = {
        query: words(5, 15),
        pos: [words(40, 90)],
        neg,
        pos_scores: [Math.round(rng() * 1e4) / 100],
        neg_scores: neg.map(() => Math.round(rng() * 1e4) / 100),
        prompt: 'Given a web search query, retrieve relevant passages that answer the query.',
        type,
      };
      const line = `${JSON.stringify(rec)}\n`;
      chunk.push(line);
      chunkBytes += Buffer.byteLength(line);
      fileBytes += Buffer.byteLength(line);
      if (chunkBytes > 4 << 20) {
        fs.writeSync(fd, chunk.join(''));
        chunk = [];
        chunkBytes = 0;
      }
    }
    if (chunk.length) fs.writeSync(fd, chunk.join(''));
    fs.closeSync(fd);
    written += fileBytes;
  }
  fs.writeFileSync(done, String(written));
  return dir;
}

// ---- measurement ----------------------------------------------------------------------------
const rssFile = path.join(os.tmpdir(), `samebatch-bench-rss-${process.pid}`);

function timed(cmd, cmdArgs) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['-r', path.join(root, 'scripts/rss-at-exit.cjs'), ...cmdArgs], {
    env: { ...process.env, SAMEBATCH_RSS_FILE: rssFile },
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 1 << 26,
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr.toString().slice(-2000)}`);
  return { seconds, rss: Number(fs.readFileSync(rssFile, 'utf8')), stdout: r.stdout.toString() };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function dirsOf(corpus) {
  return fs.readdirSync(corpus).filter((n) => !n.startsWith('.')).sort().map((n) => path.join(corpus, n));
}

function buildArgs(corpus, out, extra = []) {
  return [path.join(root, 'bin/samebatch.js'), 'build', ...dirsOf(corpus), '--batch-size', '32', '--world-size', '8',
    '--small-threshold', '2000', '--drop-threshold', '1024', '--epochs', '2', '--out', out, '--force', '--log-level', 'warn', ...extra];
}

function shardDigest(out) {
  const h = crypto.createHash('sha256');
  for (const f of fs.readdirSync(out).sort()) h.update(f).update(fs.readFileSync(path.join(out, f)));
  return h.digest('hex');
}

function measure(bytes) {
  const corpus = generate(bytes);
  const out = path.join(workDir, 'out');
  const corpusBytes = Number(fs.readFileSync(path.join(corpus, '.complete'), 'utf8'));
  const floor = [];
  const build = [];
  let records = 0;
  for (let i = 0; i < runs; i++) {
    const a = timed('parse floor', [path.join(root, 'scripts/parse-floor.mjs'), ...dirsOf(corpus)]);
    records = JSON.parse(a.stdout).records;
    floor.push(a);
    build.push(timed('samebatch build', buildArgs(corpus, out)));
  }
  const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
  const row = (name, xs) => {
    const s = median(xs.map((x) => x.seconds));
    return { name, seconds: s, mbps: corpusBytes / 1e6 / s, rss: median(xs.map((x) => x.rss)) };
  };
  return { corpusBytes, records, floor: row('(a) parse floor', floor), build: row('(b) samebatch build', build), manifest, corpus, out };
}

function print(m) {
  const mb = (b) => `${(b / 1e6).toFixed(0)} MB`;
  console.log(`corpus ${mb(m.corpusBytes)}, ${m.records} records, ${m.manifest.totals.groups} groups, ${m.manifest.totals.steps} steps written (2 epochs, world size 8), median of ${runs} runs`);
  for (const r of [m.floor, m.build]) {
    console.log(`  ${r.name.padEnd(22)} ${r.seconds.toFixed(2).padStart(7)} s  ${r.mbps.toFixed(0).padStart(5)} MB/s  peak RSS ${mb(r.rss)}`);
  }
  console.log(`  ratio b/a: ${(m.build.seconds / m.floor.seconds).toFixed(2)}`);
}

fs.mkdirSync(workDir, { recursive: true });
const main = measure(targetBytes);
print(main);

const second = arg('--rss-slope', null);
if (second) {
  const big = measure(parseSize(second));
  print(big);
  const perRecord = (big.build.rss - main.build.rss) / (big.records - main.records);
  console.log(`RSS growth of the build: ${perRecord.toFixed(1)} bytes per added record (${main.records} → ${big.records} records)`);
}

if (jobsCheck) {
  const digests = [1, 2].map((j) => {
    const out = path.join(workDir, `out-jobs-${j}`);
    timed(`build --jobs ${j}`, buildArgs(main.corpus, out, ['--jobs', String(j)]));
    return shardDigest(out);
  });
  console.log(`--jobs 1 sha256 ${digests[0]}\n--jobs 2 sha256 ${digests[1]}\n${digests[0] === digests[1] ? 'identical' : 'DIFFERENT'}`);
  if (digests[0] !== digests[1]) process.exitCode = 1;
}
fs.rmSync(rssFile, { force: true });
