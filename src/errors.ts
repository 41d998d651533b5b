/**
 * The one error type of samebatch. Every failure the user can cause carries a stable code,
 * a message that says what, where, the rule and what was found, and the exit status it maps to.
 */

/** Exit status classes: 1 = bad input data or a failed run, 2 = bad usage. */
export type ExitClass = 1 | 2;

export const ERROR_CODES = {
  // usage (exit 2)
  E_USAGE: 2,
  E_OPTION: 2,
  E_PATH_MISSING: 2,
  E_PATH_KIND: 2,
  E_NO_DATA_FILES: 2,
  E_INPUT_TWICE: 2,
  E_OUT_EXISTS: 2,
  E_OUT_FOREIGN: 2,
  E_OUT_OVERLAP: 2,
  E_SYMLINK_LOOP: 2,
  // data (exit 1)
  E_JSON: 1,
  E_UTF8: 1,
  E_GZIP: 1,
  E_NOT_OBJECT: 1,
  E_FIELD: 1,
  E_BATCH_SIZE: 1,
  E_BATCH_SIZE_ZERO: 1,
  E_TYPE_MIXED: 1,
  E_SCORES: 1,
  E_NO_NEGATIVES: 1,
  E_NO_BATCHES: 1,
  E_READ: 1,
  E_WRITE: 1,
  // verify (exit 1): an output directory that does not match its manifest or breaks a rule
  E_VERIFY: 1,
} as const satisfies Record<string, ExitClass>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorLocation {
  /** data file path as the user gave it (or as discovered under a directory argument) */
  file: string;
  /** 1-based line number */
  line?: number;
  /** 1-based column (character) where parsing failed */
  column?: number;
}

export class SamebatchError extends Error {
  readonly code: ErrorCode;
  readonly location: ErrorLocation | undefined;
  /** Optional multi-line detail shown after the message (e.g. the per-group table). */
  readonly detail: string | undefined;

  constructor(code: ErrorCode, message: string, options: { location?: ErrorLocation; detail?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SamebatchError';
    this.code = code;
    this.location = options.location;
    this.detail = options.detail;
  }

  get exitCode(): ExitClass {
    return ERROR_CODES[this.code];
  }
}

/** `file:line[:column]` as editors and compilers print it. */
export function formatLocation(loc: ErrorLocation): string {
  let s = loc.file;
  if (loc.line !== undefined) s += `:${loc.line}`;
  if (loc.line !== undefined && loc.column !== undefined) s += `:${loc.column}`;
  return s;
}

/** Cuts a found value to a readable length for an error message. */
export function describeFound(value: unknown, max = 60): string {
  let s: string;
  if (value === undefined) return 'nothing (field missing)';
  if (value === null) return 'null';
  // JSON has no Infinity or NaN: a number literal too large for a double parses to Infinity.
  if (typeof value === 'number' && !Number.isFinite(value)) return `number ${String(value)}`;
  try {
    s = JSON.stringify(value) ?? String(value);
  } catch {
    s = String(value);
  }
  if (s.length > max) s = `${s.slice(0, max - 1)}…`;
  const kind = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return `${kind} ${s}`;
}

/** A run stopped by SIGINT or SIGTERM; exits 128 + the signal number, after cleaning up. */
export class Interrupted extends Error {
  constructor(readonly signal: 'SIGINT' | 'SIGTERM') {
    super(`interrupted by ${signal}`);
    this.name = 'Interrupted';
  }

  get exitCode(): number {
    return this.signal === 'SIGINT' ? 130 : 143;
  }
}
