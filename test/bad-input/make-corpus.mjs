#!/usr/bin/env node
/**
 * Writes the checked-in bad-input corpus (test/bad-input/corpus/) and the good-input variants
 * (test/bad-input/good/, test/bad-input/skip/). Deterministic: running it again gives the same
 * bytes. The expectations live in cases.ts, written by hand (not derived from samebatch's output).
 *
 *   node test/bad-input/make-corpus.mjs
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CORPUS = path.join(HERE, 'corpus');
const GOOD = path.join(HERE, 'good');
const SKIP = path.join(HERE, 'skip');

/** A valid record, compact JSON. */
const rec = (i, extra = {}) => JSON.stringify({ query: `q${i}`, pos: [`p${i}`], neg: [`n${i}`], ...extra });
/** A record with the given fields replacing / removing the standard ones. */
const raw = (obj) => JSON.stringify(obj);

function write(dir, name, data) {
  const p = path.join(dir, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, data);
}

/** Lines joined with \n plus a final \n. */
const lines = (...ls) => `${ls.join('\n')}\n`;
/** Two good records, then `bad` as line 3, then one more good record. */
const third = (bad) => lines(rec(1), rec(2), bad, rec(4));
const gz = (data) => zlib.gzipSync(Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8'), { level: 9 });

fs.rmSync(CORPUS, { recursive: true, force: true });
fs.rmSync(GOOD, { recursive: true, force: true });
fs.rmSync(SKIP, { recursive: true, force: true });

const C = (name, data) => write(CORPUS, name, data);

// ---- wrong types, line 3 ---------------------------------------------------------------------
C('query-number.jsonl', third(raw({ query: 5, pos: ['p3'], neg: ['n3'] })));
C('query-missing.jsonl', third(raw({ pos: ['p3'], neg: ['n3'] })));
C('query-null.jsonl', third(raw({ query: null, pos: ['p3'], neg: ['n3'] })));
C('pos-string.jsonl', third(raw({ query: 'q3', pos: 'p3', neg: ['n3'] })));
C('pos-empty.jsonl', third(raw({ query: 'q3', pos: [], neg: ['n3'] })));
C('pos-item-number.jsonl', third(raw({ query: 'q3', pos: ['p3', 7], neg: ['n3'] })));
C('pos-missing.jsonl', third(raw({ query: 'q3', neg: ['n3'] })));
C('neg-missing.jsonl', third(raw({ query: 'q3', pos: ['p3'] })));
C('neg-null.jsonl', third(raw({ query: 'q3', pos: ['p3'], neg: null })));
C('neg-item-null.jsonl', third(raw({ query: 'q3', pos: ['p3'], neg: ['n3', null] })));
C('neg-item-number.jsonl', third(raw({ query: 'q3', pos: ['p3'], neg: [3] })));
C('neg-object.jsonl', third(raw({ query: 'q3', pos: ['p3'], neg: { n: 'n3' } })));
C('prompt-number.jsonl', third(rec(3, { prompt: 3 })));
C('type-number.jsonl', third(rec(3, { type: 1 })));
C('category-array.jsonl', third(rec(3, { category: ['c'] })));
const bs = (b) => lines(rec(1, { batch_size: 2 }), rec(2, { batch_size: 2 }), b, rec(4, { batch_size: 2 }));
C('batch-size-0.jsonl', bs(rec(3, { batch_size: 0 })));
C('batch-size-negative.jsonl', bs(rec(3, { batch_size: -1 })));
C('batch-size-fraction.jsonl', bs(rec(3, { batch_size: 2.5 })));
C('batch-size-string.jsonl', bs(rec(3, { batch_size: '8' })));
C('train-group-size-0.jsonl', third(rec(3, { train_group_size: 0 })));
C('train-group-size-string.jsonl', third(rec(3, { train_group_size: '4' })));

// ---- teacher scores (run with --knowledge-distillation) ---------------------------------------
const kd = (i, extra = {}) => rec(i, { pos_scores: [0.9], neg_scores: [0.1], ...extra });
const kdThird = (bad) => lines(kd(1), kd(2), bad, kd(4));
C('kd-neg-scores-missing.jsonl', kdThird(rec(3, { pos_scores: [0.9] })));
C('kd-pos-scores-missing.jsonl', kdThird(rec(3, { neg_scores: [0.1] })));
C('kd-scores-string.jsonl', kdThird(rec(3, { pos_scores: '0.9', neg_scores: [0.1] })));
C('kd-score-item-string.jsonl', kdThird(raw({ query: 'q3', pos: ['p3', 'p3b'], neg: ['n3'], pos_scores: [0.9, '0.8'], neg_scores: [0.1] })));
C('kd-score-null-item.jsonl', kdThird(rec(3, { pos_scores: [0.9], neg_scores: [null] })));
C('kd-length-mismatch.jsonl', kdThird(raw({ query: 'q3', pos: ['p3'], neg: ['n3', 'n3b'], pos_scores: [0.9], neg_scores: [0.1] })));
// JSON cannot hold NaN or Infinity: a bare token is malformed JSON ...
C('kd-nan-token.jsonl', kdThird('{"query":"q3","pos":["p3"],"neg":["n3"],"pos_scores":[NaN],"neg_scores":[0.1]}'));
C('kd-infinity-token.jsonl', kdThird('{"query":"q3","pos":["p3"],"neg":["n3"],"pos_scores":[0.9],"neg_scores":[Infinity]}'));
// ... but a number too large for a double parses to Infinity.
C('kd-overflow-number.jsonl', kdThird('{"query":"q3","pos":["p3"],"neg":["n3"],"pos_scores":[1e999],"neg_scores":[0.1]}'));

// ---- per-file consistency --------------------------------------------------------------------
C('batch-size-differs.jsonl', lines(rec(1, { batch_size: 4 }), rec(2, { batch_size: 4 }), '', rec(4, { batch_size: 8 })));
C('batch-size-dropped.jsonl', lines(rec(1, { batch_size: 4 }), rec(2, { batch_size: 4 }), rec(3)));
C('type-differs.jsonl', lines(rec(1, { type: 'normal' }), rec(2, { type: 'normal' }), rec(3, { type: 'only_1neg' })));
C('neg-empty.jsonl', third(raw({ query: 'q3', pos: ['p3'], neg: [] })));
C('neg-empty-only-1neg.jsonl', lines(rec(1, { type: 'only_1neg' }), rec(2, { type: 'only_1neg' }), raw({ query: 'q3', pos: ['p3'], neg: [], type: 'only_1neg' })));
C('neg-empty-record-group-size.jsonl', third(raw({ query: 'q3', pos: ['p3'], neg: [], train_group_size: 4 })));
// symmetric_class: a batch takes as many passages as its first record has negatives (+1), so in a
// group where some records have negatives, one without is asked for some (upstream fault 3)
const cls = (i, neg) => raw({ query: `q${i}`, pos: [`p${i}`], neg, type: 'symmetric_class' });
C('class-mixed-neg.jsonl', lines(cls(1, ['n1']), cls(2, ['n2']), '', cls(4, []), cls(5, ['n5'])));
C('dir-class-merge/a.jsonl', lines(cls(1, ['n1']), cls(2, ['n2']), cls(3, ['n3'])));
C('dir-class-merge/b.jsonl', lines(cls(1, ['n1']), cls(2, []), cls(3, [])));

// ---- syntax ----------------------------------------------------------------------------------
C('truncated-line.jsonl', third('{"query":"q3","pos":["p3"'));
C('truncated-last-line.jsonl', `${rec(1)}\n${rec(2)}\n{"query":"q3","pos":["p3"],"ne`);
C('trailing-garbage.jsonl', lines(rec(1), `${rec(2)} garbage`, rec(3)));
C('two-objects-one-line.jsonl', lines(rec(1), `${rec(2)}${rec(3)}`));
C('unquoted-key.jsonl', third('{query:"q3","pos":["p3"],"neg":["n3"]}'));
C('single-quotes.jsonl', third(`{"query":'q3',"pos":["p3"],"neg":["n3"]}`));
C('trailing-comma-object.jsonl', third('{"query":"q3","pos":["p3"],"neg":["n3"],}'));
C('not-object-array.jsonl', third('["q3",["p3"],["n3"]]'));
C('not-object-string.jsonl', third('"q3"'));
C('not-object-number.jsonl', third('42'));
C('not-object-null.jsonl', third('null'));
C('not-object-true.jsonl', third('true'));
// line 2 of 4: "café" then an 0xff byte inside the query string
C('invalid-utf8.jsonl', Buffer.concat([
  Buffer.from(`${rec(1)}\n{"query":"caf\u00e9 `, 'utf8'), Buffer.from([0xff]), Buffer.from(`x","pos":["p2"],"neg":["n2"]}\n${rec(3)}\n`, 'utf8'),
]));
// a three-byte sequence cut short by the closing quote
C('invalid-utf8-truncated-sequence.jsonl', Buffer.concat([
  Buffer.from(`${rec(1)}\n${rec(2)}\n{"query":"q3 `, 'utf8'), Buffer.from([0xe2, 0x82]), Buffer.from(`","pos":["p3"],"neg":["n3"]}\n`, 'utf8'),
]));
// overlong encoding of "/"
C('invalid-utf8-overlong.jsonl', Buffer.concat([
  Buffer.from(`{"query":"a`, 'utf8'), Buffer.from([0xc0, 0xaf]), Buffer.from(`","pos":["p1"],"neg":["n1"]}\n${rec(2)}\n`, 'utf8'),
]));
// an encoded UTF-16 surrogate (ED A0 80) is not UTF-8
C('invalid-utf8-surrogate.jsonl', Buffer.concat([
  Buffer.from(`${rec(1)}\n{"query":"\u20ac\u20ac`, 'utf8'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from(`","pos":["p2"],"neg":["n2"]}\n`, 'utf8'),
]));
C('crlf-bad-line.jsonl', [rec(1), rec(2), '{"query":"q3","pos":["p3"],"neg":["n3"]]', rec(4)].join('\r\n') + '\r\n');
C('bom-bad-json.jsonl', `\ufeff${rec(1)} x\n${rec(2)}\n`);
C('bom-invalid-utf8.jsonl', Buffer.concat([Buffer.from('\ufeff{"query":"', 'utf8'), Buffer.from([0xff]), Buffer.from(`","pos":["p1"],"neg":["n1"]}\n${rec(2)}\n`, 'utf8')]));
C('bom-bad-field.jsonl', `\ufeff${raw({ query: 'q1', pos: ['p1'], neg: 'n1' })}\n${rec(2)}\n`);
// blank and white-space-only lines count as lines
C('blank-lines-count.jsonl', lines(rec(1), '', '   ', '\t', rec(5), raw({ query: 'q6', pos: ['p6'], neg: [6] }), ''));
C('leading-space-bad-json.jsonl', lines(rec(1), `    {"query":"q2","pos":["p2"],"neg":["n2"] "x"}`));
C('unicode-before-error.jsonl', lines(rec(1), `{"query":"\u00fcber na\u00efve \u65e5\u672c","pos":["p2"],"neg":["n2"]} x`));

// ---- JSON arrays -----------------------------------------------------------------------------
const pretty = (o) => JSON.stringify(o, null, 2).split('\n').map((l) => `  ${l}`).join('\n');
const obj = (i, extra = {}) => ({ query: `q${i}`, pos: [`p${i}`], neg: [`n${i}`], ...extra });
// elements start on lines 2, 11 and 20 (a pretty element is 9 lines)
C('array-bad-element.json', `[\n${pretty(obj(1))},\n${pretty(obj(2))},\n${pretty({ query: 'q3', pos: ['p3'], neg: 'n3' })}\n]\n`);
C('array-not-object-element.json', `[\n  ${rec(1)},\n  ${rec(2)},\n  "q3"\n]\n`);
C('array-missing-bracket.json', `[\n  ${rec(1)},\n  ${rec(2)}\n`);
C('array-missing-comma.json', `[\n  ${rec(1)}\n  ${rec(2)}\n]\n`);
C('array-trailing-comma.json', `[\n  ${rec(1)},\n  ${rec(2)},\n]\n`);
C('array-element-syntax.json', `[\n  ${rec(1)},\n  {"query":"q2", "pos":["p2"], "neg":["n2"],}\n]\n`);
C('array-trailing-text.json', `[\n  ${rec(1)},\n  ${rec(2)}\n] extra\n`);
C('array-invalid-utf8.json', Buffer.concat([
  Buffer.from(`[\n  ${rec(1)},\n  {"query":"\u00e9`, 'utf8'), Buffer.from([0xfe]), Buffer.from(`","pos":["p2"],"neg":["n2"]}\n]\n`, 'utf8'),
]));
C('array-type-differs.json', `[\n  ${rec(1, { type: 'normal' })},\n\n  ${rec(2, { type: 'symmetric_sts' })}\n]\n`);
C('array-bom-bad.json', `\ufeff[${rec(1)} x]\n`);
// one pretty-printed object is neither JSON Lines nor an array
C('pretty-object.json', `${JSON.stringify(obj(1), null, 2)}\n`);
C('lines-in-json-bad.json', third(raw({ query: 'q3', pos: ['p3'], neg: 'n3' })));

// ---- gzip ------------------------------------------------------------------------------------
C('corrupt.jsonl.gz', Buffer.from('this is not gzip data at all, just text with a .gz name\n'));
{
  const full = gz(lines(rec(1), rec(2), rec(3), rec(4), rec(5), rec(6), rec(7), rec(8)));
  C('truncated.jsonl.gz', full.subarray(0, Math.floor(full.length / 2)));
  const flipped = Buffer.from(full);
  flipped[flipped.length - 6] ^= 0xff; // CRC-32 of the data no longer matches
  C('bad-crc.jsonl.gz', flipped);
}
C('gz-bad-record.jsonl.gz', gz(lines(rec(1), rec(2), '', raw({ query: 'q4', pos: ['p4'], neg: [4] }), rec(5))));
C('gz-array-bad-element.json.gz', gz(`[\n  ${rec(1)},\n  ${rec(2)},\n\n  ${raw({ query: 'q4', pos: 'p4', neg: ['n4'] })}\n]\n`));
C('gz-bad-json.jsonl.gz', gz(lines(rec(1), `${rec(2)} ]`)));
C('gz-invalid-utf8.jsonl.gz', gz(Buffer.concat([Buffer.from(`${rec(1)}\n{"query":"`, 'utf8'), Buffer.from([0x80]), Buffer.from(`","pos":["p2"],"neg":["n2"]}\n`, 'utf8')])));

// ---- data, grouping and paths ----------------------------------------------------------------
C('symmetric.jsonl', lines(...Array.from({ length: 8 }, (_, i) => rec(i + 1, { type: 'symmetric_sts' }))));
C('good.jsonl', lines(...Array.from({ length: 8 }, (_, i) => rec(i + 1))));
C('few.jsonl', lines(rec(1), rec(2), rec(3)));
C('empty.jsonl', '');
C('blank-only.jsonl', '\n  \n\r\n');
C('notes.txt', `${rec(1)}\n`);
C('data.jsonl.bak', `${rec(1)}\n`);
C('dir-no-data/README.txt', 'no data files here\n');
C('dir-no-data/.hidden.jsonl', `${rec(1)}\n`);
C('dir-nested-only/sub/a.jsonl', lines(...Array.from({ length: 8 }, (_, i) => rec(i + 1))));
C('dir-twice/a.jsonl', lines(...Array.from({ length: 8 }, (_, i) => rec(i + 1))));
C('dir-overlap/a.jsonl', lines(...Array.from({ length: 8 }, (_, i) => rec(i + 1))));
C('dir-bad-member/a.jsonl', lines(...Array.from({ length: 8 }, (_, i) => rec(i + 1))));
C('dir-bad-member/b.jsonl', lines(rec(1), rec(2), raw({ query: 'q3', pos: ['p3'], neg: 'n3' })));
// the symlink loop (loop/sub/back -> ..) is made at test time
C('loop/sub/a.jsonl', lines(...Array.from({ length: 8 }, (_, i) => rec(i + 1))));

// ---- good inputs: the same eight records in every accepted form --------------------------------
const eight = Array.from({ length: 8 }, (_, i) => rec(i + 1));
const G = (name, data) => write(GOOD, name, data);
G('plain.jsonl', lines(...eight));
G('bom.jsonl', `\ufeff${lines(...eight)}`);
G('crlf.jsonl', `${eight.join('\r\n')}\r\n`);
G('blank-lines.jsonl', `\n${eight.slice(0, 3).join('\n')}\n\n  \n${eight.slice(3).join('\n\n')}\n\n`);
G('no-final-newline.jsonl', eight.join('\n'));
G('bom-crlf-no-final-newline.jsonl', `\ufeff${eight.join('\r\n')}`);
G('array.json', `[\n${eight.map((r) => pretty(JSON.parse(r))).join(',\n')}\n]\n`);
G('array-compact.json', `[${eight.join(',')}]`);
G('array-bom-crlf.json', `\ufeff[\r\n${eight.map((r) => `  ${r}`).join(',\r\n')}\r\n]\r\n`);
G('lines.json', lines(...eight));
G('plain.jsonl.gz', gz(lines(...eight)));
G('array.json.gz', gz(`[\n${eight.map((r) => `  ${r}`).join(',\n')}\n]\n`));
G('lines.json.gz', gz(`\ufeff${eight.join('\r\n')}\r\n`));
// symmetric_class without any negatives: nothing is sampled, so empty neg is fine
G('class-no-neg.jsonl', lines(...Array.from({ length: 8 }, (_, i) => raw({ query: `q${i + 1}`, pos: [`p${i + 1}`], neg: [], type: 'symmetric_class' }))));

// ---- --skip-invalid ------------------------------------------------------------------------------
const S = (name, data) => write(SKIP, name, data);
// mixed.jsonl: 10 good records and 7 bad ones, on lines 3, 5, 6, 9, 12, 14, 17
S('mixed.jsonl', Buffer.concat([
  Buffer.from(lines(
    rec(1), //                                                         1
    rec(2), //                                                         2
    '{"query":"q3","pos":["p3"]', //                                   3 E_JSON
    rec(4), //                                                         4
    raw({ query: 'q5', pos: ['p5'], neg: null }), //                   5 E_FIELD
    '[1,2,3]', //                                                      6 E_NOT_OBJECT
    rec(7), //                                                         7
    rec(8), //                                                         8
  ), 'utf8'),
  Buffer.from('{"query":"q9', 'utf8'), Buffer.from([0xff]), Buffer.from('","pos":["p9"],"neg":["n9"]}\n', 'utf8'), // 9 E_UTF8
  Buffer.from(lines(
    rec(10), //                                                        10
    rec(11), //                                                        11
    raw({ query: 12, pos: ['p12'], neg: ['n12'] }), //                 12 E_FIELD
    rec(13), //                                                        13
    raw({ query: 'q14', pos: ['p14'], neg: [] }), //                   14 E_NO_NEGATIVES
    rec(15), //                                                        15
    rec(16), //                                                        16
    'null', //                                                         17 E_NOT_OBJECT
  ), 'utf8'),
]));
// few-bad.jsonl: 8 good records, one bad at line 5
S('few-bad.jsonl', lines(rec(1), rec(2), rec(3), rec(4), raw({ query: 'q5', pos: [], neg: ['n5'] }), rec(6), rec(7), rec(8), rec(9)));
S('clean.jsonl', lines(...eight));
S('all-bad.jsonl', lines('{', raw({ query: 'q2', pos: 'p2', neg: ['n2'] }), '7', raw({ query: 'q4', pos: ['p4'], neg: [] })));
S('array-mixed.json', `[\n  ${rec(1)},\n  ${rec(2)},\n  ${raw({ query: 'q3', pos: ['p3'] })},\n  ${rec(4)},\n  5,\n  ${rec(6)},\n  ${rec(7)},\n  ${rec(8)},\n  ${rec(9)}\n]\n`);
