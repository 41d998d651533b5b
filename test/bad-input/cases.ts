/**
 * The bad-input table: for every case in corpus/ (written by make-corpus.mjs), the command and
 * what samebatch must answer. Locations and columns are worked out by hand from the data (columns
 * are 1-based and count characters, not bytes; a byte-order mark is not a character of line 1),
 * never copied from samebatch's output.
 *
 * Every run uses the corpus directory (a temporary copy of it) as its working directory, so the
 * paths below are also the paths samebatch must print.
 */
import type { ErrorCode } from '../../src/errors.js';

export interface BadCase {
  /** Unique name of the case (also the test title). */
  id: string;
  /** Input paths, relative to the corpus directory. */
  inputs: string[];
  /** Options besides --out. */
  options?: string[];
  /** --out relative to the corpus directory; by default a fresh path in a temporary directory. */
  out?: string;
  status: 1 | 2;
  code: ErrorCode;
  /**
   * What the message must start with, right after `samebatch: error CODE: ` and before `: `:
   * `file:line` (`file:line:column` for JSON syntax and UTF-8 faults), or the path for path and
   * whole-file faults. null when the fault has no place (the message is checked otherwise).
   */
  location: string | null;
  /** Further text the error line must hold (field name, what was found, the rule). */
  message?: (string | RegExp)[];
  /** Text standard error must hold after the error line (the E_NO_BATCHES table). */
  detail?: (string | RegExp)[];
  /** Symbolic links to make in the working copy before the run: [link, target]. */
  symlinks?: [string, string][];
  /** Named pipes to make in the working copy before the run. */
  fifos?: string[];
}

const KD = ['--knowledge-distillation'];

export const BAD_CASES: BadCase[] = [
  // ---- wrong types ------------------------------------------------------------------------
  { id: 'query is a number', inputs: ['query-number.jsonl'], status: 1, code: 'E_FIELD', location: 'query-number.jsonl:3', message: ['field "query"', /got .*\b5\b/] },
  { id: 'query missing', inputs: ['query-missing.jsonl'], status: 1, code: 'E_FIELD', location: 'query-missing.jsonl:3', message: ['field "query"', /got .*missing/] },
  { id: 'query null', inputs: ['query-null.jsonl'], status: 1, code: 'E_FIELD', location: 'query-null.jsonl:3', message: ['field "query"', /got .*null/] },
  { id: 'pos is a string', inputs: ['pos-string.jsonl'], status: 1, code: 'E_FIELD', location: 'pos-string.jsonl:3', message: ['field "pos"', /got .*"p3"/] },
  { id: 'pos empty', inputs: ['pos-empty.jsonl'], status: 1, code: 'E_FIELD', location: 'pos-empty.jsonl:3', message: ['field "pos"', /got .*\[\]/] },
  { id: 'pos item not a string', inputs: ['pos-item-number.jsonl'], status: 1, code: 'E_FIELD', location: 'pos-item-number.jsonl:3', message: ['field "pos"', /got .*item 1.*\b7\b/] },
  { id: 'pos missing', inputs: ['pos-missing.jsonl'], status: 1, code: 'E_FIELD', location: 'pos-missing.jsonl:3', message: ['field "pos"', /got .*missing/] },
  { id: 'neg missing', inputs: ['neg-missing.jsonl'], status: 1, code: 'E_FIELD', location: 'neg-missing.jsonl:3', message: ['field "neg"', /got .*missing/] },
  { id: 'neg null', inputs: ['neg-null.jsonl'], status: 1, code: 'E_FIELD', location: 'neg-null.jsonl:3', message: ['field "neg"', /got .*null/] },
  { id: 'neg item null', inputs: ['neg-item-null.jsonl'], status: 1, code: 'E_FIELD', location: 'neg-item-null.jsonl:3', message: ['field "neg"', /got .*item 1.*null/] },
  { id: 'neg item a number', inputs: ['neg-item-number.jsonl'], status: 1, code: 'E_FIELD', location: 'neg-item-number.jsonl:3', message: ['field "neg"', /got .*item 0.*\b3\b/] },
  { id: 'neg is an object', inputs: ['neg-object.jsonl'], status: 1, code: 'E_FIELD', location: 'neg-object.jsonl:3', message: ['field "neg"', /got .*\{"n":"n3"\}/] },
  { id: 'prompt not a string', inputs: ['prompt-number.jsonl'], status: 1, code: 'E_FIELD', location: 'prompt-number.jsonl:3', message: ['field "prompt"', /got .*\b3\b/] },
  { id: 'type not a string', inputs: ['type-number.jsonl'], status: 1, code: 'E_FIELD', location: 'type-number.jsonl:3', message: ['field "type"', /got .*\b1\b/] },
  { id: 'category not a string', inputs: ['category-array.jsonl'], status: 1, code: 'E_FIELD', location: 'category-array.jsonl:3', message: ['field "category"', /got .*\["c"\]/] },
  { id: 'batch_size 0', inputs: ['batch-size-0.jsonl'], status: 1, code: 'E_BATCH_SIZE', location: 'batch-size-0.jsonl:3', message: ['field "batch_size"', /got .*\b0\b/] },
  { id: 'batch_size -1', inputs: ['batch-size-negative.jsonl'], status: 1, code: 'E_BATCH_SIZE', location: 'batch-size-negative.jsonl:3', message: ['field "batch_size"', /got .*-1\b/] },
  { id: 'batch_size 2.5', inputs: ['batch-size-fraction.jsonl'], status: 1, code: 'E_BATCH_SIZE', location: 'batch-size-fraction.jsonl:3', message: ['field "batch_size"', /got .*2\.5/] },
  { id: 'batch_size "8"', inputs: ['batch-size-string.jsonl'], status: 1, code: 'E_BATCH_SIZE', location: 'batch-size-string.jsonl:3', message: ['field "batch_size"', /got .*"8"/] },
  { id: 'train_group_size 0', inputs: ['train-group-size-0.jsonl'], status: 1, code: 'E_FIELD', location: 'train-group-size-0.jsonl:3', message: ['field "train_group_size"', /got .*\b0\b/] },
  { id: 'train_group_size "4"', inputs: ['train-group-size-string.jsonl'], status: 1, code: 'E_FIELD', location: 'train-group-size-string.jsonl:3', message: ['field "train_group_size"', /got .*"4"/] },

  // ---- teacher scores -----------------------------------------------------------------------
  { id: 'kd: neg_scores missing', inputs: ['kd-neg-scores-missing.jsonl'], options: KD, status: 1, code: 'E_SCORES', location: 'kd-neg-scores-missing.jsonl:3', message: ['field "neg_scores"', /got .*missing/] },
  { id: 'kd: pos_scores missing', inputs: ['kd-pos-scores-missing.jsonl'], options: KD, status: 1, code: 'E_SCORES', location: 'kd-pos-scores-missing.jsonl:3', message: ['field "pos_scores"', /got .*missing/] },
  { id: 'kd: scores a string', inputs: ['kd-scores-string.jsonl'], options: KD, status: 1, code: 'E_SCORES', location: 'kd-scores-string.jsonl:3', message: ['field "pos_scores"', /got .*"0\.9"/] },
  { id: 'kd: non-numeric score', inputs: ['kd-score-item-string.jsonl'], options: KD, status: 1, code: 'E_SCORES', location: 'kd-score-item-string.jsonl:3', message: ['field "pos_scores"', /got .*item 1.*"0\.8"/] },
  { id: 'kd: null score', inputs: ['kd-score-null-item.jsonl'], options: KD, status: 1, code: 'E_SCORES', location: 'kd-score-null-item.jsonl:3', message: ['field "neg_scores"', /got .*item 0.*null/] },
  { id: 'kd: scores length mismatch', inputs: ['kd-length-mismatch.jsonl'], options: KD, status: 1, code: 'E_SCORES', location: 'kd-length-mismatch.jsonl:3', message: ['field "neg_scores"', '"neg"', /got .*\b1\b/] },
  { id: 'kd: bare NaN token is malformed JSON', inputs: ['kd-nan-token.jsonl'], options: KD, status: 1, code: 'E_JSON', location: 'kd-nan-token.jsonl:3:55' },
  { id: 'kd: bare Infinity token is malformed JSON', inputs: ['kd-infinity-token.jsonl'], options: KD, status: 1, code: 'E_JSON', location: 'kd-infinity-token.jsonl:3:74' },
  // 1e999 is valid JSON that parses to Infinity: not a finite number, and the message must say what was found.
  { id: 'kd: score 1e999 overflows to Infinity', inputs: ['kd-overflow-number.jsonl'], options: KD, status: 1, code: 'E_SCORES', location: 'kd-overflow-number.jsonl:3', message: ['field "pos_scores"', /got .*item 0.*(Infinity|1e999)/] },

  // ---- per-file consistency, negatives ------------------------------------------------------
  { id: 'batch_size differs between records', inputs: ['batch-size-differs.jsonl'], status: 1, code: 'E_BATCH_SIZE', location: 'batch-size-differs.jsonl:4', message: ['"batch_size"', 'line 1', /\b4\b/, /got .*\b8\b/] },
  { id: 'batch_size present then absent', inputs: ['batch-size-dropped.jsonl'], status: 1, code: 'E_BATCH_SIZE', location: 'batch-size-dropped.jsonl:3', message: ['"batch_size"', 'line 1', /got .*null/] },
  { id: 'type differs between records', inputs: ['type-differs.jsonl'], status: 1, code: 'E_TYPE_MIXED', location: 'type-differs.jsonl:3', message: ['"type"', '"normal"', /got .*"only_1neg"/] },
  { id: 'type differs between .json array elements', inputs: ['array-type-differs.json'], status: 1, code: 'E_TYPE_MIXED', location: 'array-type-differs.json:4', message: ['"type"', '"normal"', /got .*"symmetric_sts"/] },
  { id: 'empty neg where negatives are sampled', inputs: ['neg-empty.jsonl'], status: 1, code: 'E_NO_NEGATIVES', location: 'neg-empty.jsonl:3', message: ['field "neg"', '--train-group-size', /got .*\[\]/] },
  { id: 'empty neg with only_1neg (even --train-group-size 1)', inputs: ['neg-empty-only-1neg.jsonl'], options: ['--train-group-size', '1'], status: 1, code: 'E_NO_NEGATIVES', location: 'neg-empty-only-1neg.jsonl:3', message: ['field "neg"', 'only_1neg'] },
  { id: 'empty neg with the record\'s train_group_size 4', inputs: ['neg-empty-record-group-size.jsonl'], options: ['--train-group-size', '1'], status: 1, code: 'E_NO_NEGATIVES', location: 'neg-empty-record-group-size.jsonl:3', message: ['field "neg"', 'train_group_size'] },
  { id: 'symmetric_class: empty neg where other records have negatives', inputs: ['class-mixed-neg.jsonl'], status: 1, code: 'E_NO_NEGATIVES', location: 'class-mixed-neg.jsonl:4', message: ['field "neg"', 'symmetric_class', /got .*\[\]/] },
  { id: 'symmetric_class: small files merged, one without negatives', inputs: ['dir-class-merge'], options: ['--small-threshold', '10'], status: 1, code: 'E_NO_NEGATIVES', location: 'dir-class-merge/b.jsonl:2', message: ['field "neg"', 'dir-class-merge/a.jsonl'] },

  // ---- syntax -------------------------------------------------------------------------------
  { id: 'truncated line', inputs: ['truncated-line.jsonl'], status: 1, code: 'E_JSON', location: 'truncated-line.jsonl:3:26' },
  { id: 'truncated last line, no final newline', inputs: ['truncated-last-line.jsonl'], status: 1, code: 'E_JSON', location: 'truncated-last-line.jsonl:3:31' },
  { id: 'trailing garbage after an object', inputs: ['trailing-garbage.jsonl'], status: 1, code: 'E_JSON', location: 'trailing-garbage.jsonl:2:42' },
  { id: 'two objects on one line', inputs: ['two-objects-one-line.jsonl'], status: 1, code: 'E_JSON', location: 'two-objects-one-line.jsonl:2:41' },
  { id: 'unquoted key', inputs: ['unquoted-key.jsonl'], status: 1, code: 'E_JSON', location: 'unquoted-key.jsonl:3:2' },
  { id: 'single-quoted string', inputs: ['single-quotes.jsonl'], status: 1, code: 'E_JSON', location: 'single-quotes.jsonl:3:10' },
  { id: 'trailing comma in an object', inputs: ['trailing-comma-object.jsonl'], status: 1, code: 'E_JSON', location: 'trailing-comma-object.jsonl:3:41' },
  { id: 'CRLF file, bad line 3', inputs: ['crlf-bad-line.jsonl'], status: 1, code: 'E_JSON', location: 'crlf-bad-line.jsonl:3:40' },
  { id: 'BOM, then bad JSON on line 1 (the BOM is not a column)', inputs: ['bom-bad-json.jsonl'], status: 1, code: 'E_JSON', location: 'bom-bad-json.jsonl:1:42' },
  { id: 'BOM, then invalid UTF-8 on line 1 (the BOM is not a column)', inputs: ['bom-invalid-utf8.jsonl'], status: 1, code: 'E_UTF8', location: 'bom-invalid-utf8.jsonl:1:11' },
  { id: 'BOM, then a field fault on line 1', inputs: ['bom-bad-field.jsonl'], status: 1, code: 'E_FIELD', location: 'bom-bad-field.jsonl:1', message: ['field "neg"', /got .*"n1"/] },
  { id: 'blank and white-space lines count as lines', inputs: ['blank-lines-count.jsonl'], status: 1, code: 'E_FIELD', location: 'blank-lines-count.jsonl:6', message: ['field "neg"', /got .*item 0.*\b6\b/] },
  { id: 'leading spaces count as columns', inputs: ['leading-space-bad-json.jsonl'], status: 1, code: 'E_JSON', location: 'leading-space-bad-json.jsonl:2:45' },
  { id: 'columns count characters, not bytes', inputs: ['unicode-before-error.jsonl'], status: 1, code: 'E_JSON', location: 'unicode-before-error.jsonl:2:53' },
  { id: 'record is an array', inputs: ['not-object-array.jsonl'], status: 1, code: 'E_NOT_OBJECT', location: 'not-object-array.jsonl:3', message: [/got .*array/] },
  { id: 'record is a string', inputs: ['not-object-string.jsonl'], status: 1, code: 'E_NOT_OBJECT', location: 'not-object-string.jsonl:3', message: [/got .*"q3"/] },
  { id: 'record is a number', inputs: ['not-object-number.jsonl'], status: 1, code: 'E_NOT_OBJECT', location: 'not-object-number.jsonl:3', message: [/got .*\b42\b/] },
  { id: 'record is null', inputs: ['not-object-null.jsonl'], status: 1, code: 'E_NOT_OBJECT', location: 'not-object-null.jsonl:3', message: [/got .*null/] },
  { id: 'record is true', inputs: ['not-object-true.jsonl'], status: 1, code: 'E_NOT_OBJECT', location: 'not-object-true.jsonl:3', message: [/got .*true/] },
  { id: 'invalid UTF-8 byte 0xff', inputs: ['invalid-utf8.jsonl'], status: 1, code: 'E_UTF8', location: 'invalid-utf8.jsonl:2:16', message: [/0xff/i] },
  { id: 'UTF-8 sequence cut short', inputs: ['invalid-utf8-truncated-sequence.jsonl'], status: 1, code: 'E_UTF8', location: 'invalid-utf8-truncated-sequence.jsonl:3:14' },
  { id: 'overlong UTF-8', inputs: ['invalid-utf8-overlong.jsonl'], status: 1, code: 'E_UTF8', location: 'invalid-utf8-overlong.jsonl:1:12' },
  { id: 'UTF-8-encoded surrogate', inputs: ['invalid-utf8-surrogate.jsonl'], status: 1, code: 'E_UTF8', location: 'invalid-utf8-surrogate.jsonl:2:13' },

  // ---- .json arrays ---------------------------------------------------------------------------
  { id: '.json array: bad element (its first line)', inputs: ['array-bad-element.json'], status: 1, code: 'E_FIELD', location: 'array-bad-element.json:20', message: ['field "neg"', /got .*"n3"/] },
  { id: '.json array: element not an object', inputs: ['array-not-object-element.json'], status: 1, code: 'E_NOT_OBJECT', location: 'array-not-object-element.json:4', message: [/got .*"q3"/] },
  { id: '.json array: missing ]', inputs: ['array-missing-bracket.json'], status: 1, code: 'E_JSON', location: 'array-missing-bracket.json:4:1' },
  { id: '.json array: missing comma', inputs: ['array-missing-comma.json'], status: 1, code: 'E_JSON', location: 'array-missing-comma.json:3:3' },
  { id: '.json array: trailing comma', inputs: ['array-trailing-comma.json'], status: 1, code: 'E_JSON', location: 'array-trailing-comma.json:4:1' },
  { id: '.json array: syntax fault inside an element', inputs: ['array-element-syntax.json'], status: 1, code: 'E_JSON', location: 'array-element-syntax.json:3:45' },
  { id: '.json array: text after ]', inputs: ['array-trailing-text.json'], status: 1, code: 'E_JSON', location: 'array-trailing-text.json:4:3' },
  { id: '.json array: invalid UTF-8', inputs: ['array-invalid-utf8.json'], status: 1, code: 'E_UTF8', location: 'array-invalid-utf8.json:3:14' },
  { id: '.json array with a BOM: fault on line 1 (the BOM is not a column)', inputs: ['array-bom-bad.json'], status: 1, code: 'E_JSON', location: 'array-bom-bad.json:1:43' },
  { id: '.json holding one pretty-printed object', inputs: ['pretty-object.json'], status: 1, code: 'E_JSON', location: 'pretty-object.json:1:2' },
  { id: '.json holding JSON Lines: bad line', inputs: ['lines-in-json-bad.json'], status: 1, code: 'E_FIELD', location: 'lines-in-json-bad.json:3', message: ['field "neg"'] },

  // ---- gzip -----------------------------------------------------------------------------------
  { id: 'gzip: not gzip at all', inputs: ['corrupt.jsonl.gz'], status: 1, code: 'E_GZIP', location: 'corrupt.jsonl.gz' },
  { id: 'gzip: truncated', inputs: ['truncated.jsonl.gz'], status: 1, code: 'E_GZIP', location: 'truncated.jsonl.gz' },
  { id: 'gzip: bad CRC', inputs: ['bad-crc.jsonl.gz'], status: 1, code: 'E_GZIP', location: 'bad-crc.jsonl.gz' },
  { id: 'gzip: bad record (decompressed line)', inputs: ['gz-bad-record.jsonl.gz'], status: 1, code: 'E_FIELD', location: 'gz-bad-record.jsonl.gz:4', message: ['field "neg"', /got .*item 0.*\b4\b/] },
  { id: 'gzip: .json.gz array with a bad element', inputs: ['gz-array-bad-element.json.gz'], status: 1, code: 'E_FIELD', location: 'gz-array-bad-element.json.gz:5', message: ['field "pos"', /got .*"p4"/] },
  { id: 'gzip: malformed JSON (decompressed line:column)', inputs: ['gz-bad-json.jsonl.gz'], status: 1, code: 'E_JSON', location: 'gz-bad-json.jsonl.gz:2:42' },
  { id: 'gzip: invalid UTF-8 (decompressed line:column)', inputs: ['gz-invalid-utf8.jsonl.gz'], status: 1, code: 'E_UTF8', location: 'gz-invalid-utf8.jsonl.gz:2:11' },

  // ---- data files in directories ----------------------------------------------------------------
  { id: 'bad record in a file of a directory argument', inputs: ['good.jsonl', 'dir-bad-member'], status: 1, code: 'E_FIELD', location: 'dir-bad-member/b.jsonl:3', message: ['field "neg"'] },

  // ---- batch sizes and batches ------------------------------------------------------------------
  { id: 'symmetric data with --batch-size 1', inputs: ['symmetric.jsonl'], options: ['--batch-size', '1'], status: 1, code: 'E_BATCH_SIZE_ZERO', location: 'symmetric.jsonl', message: ['symmetric_sts', '--batch-size 1'] },
  { id: 'zero batches: too few records', inputs: ['few.jsonl'], status: 1, code: 'E_NO_BATCHES', location: null, detail: [/few\.jsonl\s+3\s+8 × 1 = 8/] },
  { id: 'zero batches: --world-size 2', inputs: ['good.jsonl'], options: ['--world-size', '2'], status: 1, code: 'E_NO_BATCHES', location: null, detail: [/good\.jsonl\s+8\s+8 × 2 = 16/] },
  { id: 'zero batches: the only file is empty', inputs: ['empty.jsonl'], status: 1, code: 'E_NO_BATCHES', location: null, detail: ['no group is left'] },
  { id: 'zero batches: the only file holds blank lines', inputs: ['blank-only.jsonl'], status: 1, code: 'E_NO_BATCHES', location: null, detail: ['no group is left'] },
  { id: 'zero batches: the only file is below --small-threshold', inputs: ['few.jsonl'], options: ['--small-threshold', '5'], status: 1, code: 'E_NO_BATCHES', location: null, detail: ['no group is left'] },

  // ---- paths ------------------------------------------------------------------------------------
  { id: 'file argument with a non-data extension', inputs: ['notes.txt'], status: 2, code: 'E_PATH_KIND', location: 'notes.txt' },
  { id: 'file argument named .jsonl.bak', inputs: ['good.jsonl', 'data.jsonl.bak'], status: 2, code: 'E_PATH_KIND', location: 'data.jsonl.bak' },
  { id: 'nonexistent file', inputs: ['does-not-exist.jsonl'], status: 2, code: 'E_PATH_MISSING', location: 'does-not-exist.jsonl' },
  { id: 'dangling symbolic link as a file argument', inputs: ['dangling.jsonl'], status: 2, code: 'E_PATH_MISSING', location: 'dangling.jsonl', symlinks: [['dangling.jsonl', 'nowhere.jsonl']] },
  { id: 'named pipe as a file argument', inputs: ['fifo.jsonl'], status: 2, code: 'E_PATH_KIND', location: 'fifo.jsonl', fifos: ['fifo.jsonl'] },
  { id: 'nonexistent directory after a good file', inputs: ['good.jsonl', 'no-such-dir/'], status: 2, code: 'E_PATH_MISSING', location: 'no-such-dir' },
  { id: 'directory without data files (a dot file does not count)', inputs: ['dir-no-data'], status: 2, code: 'E_NO_DATA_FILES', location: 'dir-no-data' },
  { id: 'directory whose data is only in a subdirectory', inputs: ['dir-nested-only'], status: 2, code: 'E_NO_DATA_FILES', location: 'dir-nested-only', message: ['--recursive'] },
  { id: 'the same file twice', inputs: ['good.jsonl', 'good.jsonl'], status: 2, code: 'E_INPUT_TWICE', location: 'good.jsonl' },
  { id: 'the same file twice under two spellings', inputs: ['good.jsonl', './good.jsonl'], status: 2, code: 'E_INPUT_TWICE', location: './good.jsonl', message: ['good.jsonl'] },
  { id: 'a directory and a file inside it', inputs: ['dir-twice', 'dir-twice/a.jsonl'], status: 2, code: 'E_INPUT_TWICE', location: 'dir-twice/a.jsonl' },
  { id: '--out inside an input directory', inputs: ['dir-overlap'], out: 'dir-overlap/out', status: 2, code: 'E_OUT_OVERLAP', location: '--out dir-overlap/out', message: ['dir-overlap'] },
  { id: 'symbolic link loop under --recursive', inputs: ['loop'], options: ['--recursive'], status: 2, code: 'E_SYMLINK_LOOP', location: 'loop/sub/back', symlinks: [['loop/sub/back', '..']] },
];
