#!/usr/bin/env node
// Writes the bundled example data tree in fixtures/ (FlagEmbedding's example_data layout).
// Deterministic: the same script always writes the same bytes. The sizes are chosen so that
// with the README's options (--batch-size 4 --small-threshold 12 --drop-threshold 20) every
// rule shows: own groups, merged small files, a dropped merged group, a batch_size field,
// symmetric half batch sizes, no_in_batch_neg directories and incomplete tails.
import fs from 'node:fs';
import path from 'node:path';
import seedrandom from 'seedrandom';

const root = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'fixtures');
const rng = seedrandom.alea('samebatch-fixtures');
const pick = (xs) => xs[Math.floor(rng() * xs.length)];
const int = (lo, hi) => lo + Math.floor(rng() * (hi - lo + 1));
const round = (x) => Math.round(x * 100) / 100;

const WORDS = ('river bank interest rate bridge museum vaccine protein orbit satellite harvest wheat ' +
  'drought climate engine turbine voltage circuit novel author poem library archive treaty border ' +
  'election senate court verdict patent startup market stock bond glacier volcano island coral ' +
  'reef algorithm compiler kernel network packet router museum opera violin guitar recipe flour ' +
  'yeast oven marathon runner stadium league goal referee').split(' ');
const sentence = (n) => {
  const w = Array.from({ length: n }, () => pick(WORDS));
  w[0] = w[0][0].toUpperCase() + w[0].slice(1);
  return `${w.join(' ')}.`;
};

function retrieval(name, n, { type, negs, batchSize, prompt }) {
  return Array.from({ length: n }, (_, i) => {
    const neg = Array.from({ length: negs }, () => sentence(int(10, 18)));
    const r = { query: `${name} question ${i + 1}: ${sentence(int(5, 9))}`, pos: [sentence(int(12, 20))], neg };
    r.pos_scores = [round(90 + rng() * 9)];
    r.neg_scores = neg.map(() => round(60 + rng() * 25));
    r.prompt = prompt;
    r.type = type;
    if (batchSize !== undefined) r.batch_size = batchSize;
    return r;
  });
}

const LABELS = ['one star', 'two stars', 'three stars', 'four stars', 'five stars'];
function classification(name, n) {
  return Array.from({ length: n }, (_, i) => {
    const label = LABELS[i % LABELS.length];
    return {
      query: `${name} review ${i + 1}: ${sentence(int(6, 12))}`,
      pos: [`This review earns ${label}.`],
      neg: LABELS.filter((l) => l !== label).map((l) => `This review earns ${l}.`),
      prompt: `Classify the given ${name} text into its category.`,
      type: 'symmetric_class',
    };
  });
}

const TOPICS = ['astrophysics', 'genomics', 'neuroscience', 'ecology', 'robotics'];
function clustering(name, n) {
  return Array.from({ length: n }, (_, i) => {
    const category = TOPICS[i % TOPICS.length];
    return {
      query: `${sentence(int(5, 10))} (${category})`,
      pos: [`${sentence(int(5, 10))} (${category})`],
      neg: TOPICS.filter((t) => t !== category).map((t) => `${sentence(int(5, 10))} (${t})`),
      prompt: `Identify the main category of ${name} papers based on the titles.`,
      type: 'symmetric_clustering',
      category,
    };
  });
}

function sts(n) {
  return Array.from({ length: n }, () => ({
    query: sentence(int(8, 14)),
    pos: [sentence(int(8, 14))],
    neg: [sentence(int(8, 14)), sentence(int(8, 14))],
    prompt: 'Retrieve semantically similar text.',
    type: 'symmetric_sts',
  }));
}

const files = {
  'retrieval/msmarco.jsonl': retrieval('msmarco', 40, { type: 'normal', negs: 3, prompt: 'Given a web search query, retrieve relevant passages that answer the query.' }),
  'retrieval/nq.jsonl': retrieval('nq', 11, { type: 'normal', negs: 3, prompt: 'Given a question, retrieve Wikipedia passages that answer the question.' }),
  'retrieval/hotpotqa.jsonl': retrieval('hotpotqa', 10, { type: 'normal', negs: 3, batchSize: 3, prompt: 'Given a multi-hop question, retrieve documents that can help answer the question.' }),
  'retrieval/nli.jsonl': retrieval('nli', 30, { type: 'only_1neg', negs: 1, prompt: 'Retrieve semantically similar text.' }),
  'retrieval/fever.jsonl': retrieval('fever', 6, { type: 'only_1neg', negs: 1, prompt: 'Given a claim, retrieve documents that support or refute the claim.' }),
  'sts/sts.jsonl': sts(25),
  'classification-no_in_batch_neg/AmazonClassification.jsonl': classification('Amazon', 24),
  'classification-no_in_batch_neg/Banking77Classification.jsonl': classification('Banking77', 16),
  'classification-no_in_batch_neg/TweetSentimentClassification.jsonl': classification('TweetSentiment', 10),
  'classification-no_in_batch_neg/EmotionClassification.jsonl': classification('Emotion', 11),
  'clustering-no_in_batch_neg/arXiv_title.jsonl': clustering('arXiv', 20),
  'clustering-no_in_batch_neg/bioRXiv_title.jsonl': clustering('bioRXiv', 14),
};

for (const [rel, records] of Object.entries(files)) {
  const p = path.join(root, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
}
console.log(`wrote ${Object.keys(files).length} data files under ${path.relative(process.cwd(), root) || '.'}`);
