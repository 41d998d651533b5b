/**
 * Removes top-level members from the text of a JSON object without re-serialising it: the rest
 * of the record keeps its bytes exactly. Used to drop teacher scores from records that are
 * otherwise copied byte for byte. The input must already be known to be valid JSON.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isWs(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/**
 * Index just past the string starting at `i` (which holds the opening quote). The closing quote
 * is found with the native indexOf: records are mostly long strings, so this is the hot path.
 */
function skipString(b: Uint8Array, i: number): number {
  let q = i;
  for (;;) {
    q = b.indexOf(QUOTE, q + 1);
    if (q < 0) return b.length;
    // A quote preceded by an odd number of backslashes is escaped.
    let k = q - 1;
    while (b[k] === BACKSLASH) k--;
    if ((q - 1 - k) % 2 === 0) return q + 1;
  }
}

/** Index just past the JSON value starting at `i`. */
function skipValue(b: Uint8Array, i: number): number {
  const c = b[i];
  if (c === QUOTE) return skipString(b, i);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    while (i < b.length) {
      const d = b[i] as number;
      if (d === QUOTE) {
        i = skipString(b, i);
        continue;
      }
      if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    return i;
  }
  while (i < b.length && b[i] !== 0x2c && b[i] !== 0x7d && b[i] !== 0x5d && !isWs(b[i])) i++;
  return i;
}

function skipWs(b: Uint8Array, i: number): number {
  while (i < b.length && isWs(b[i])) i++;
  return i;
}

const decoder = new TextDecoder();

/**
 * Byte ranges [start, end) to cut so that the members named in `keys` disappear, commas
 * included; the ranges are ordered and do not overlap. Returns [] when no key is present.
 */
export function memberCuts(b: Uint8Array, keys: ReadonlySet<string>): number[] {
  const members: { start: number; end: number; drop: boolean }[] = [];
  let i = skipWs(b, 0);
  if (b[i] !== 0x7b) return [];
  i = skipWs(b, i + 1);
  while (i < b.length && b[i] === QUOTE) {
    const keyStart = i;
    const keyEnd = skipString(b, i);
    const raw = decoder.decode(b.subarray(keyStart + 1, keyEnd - 1));
    const key = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
    i = skipWs(b, keyEnd);
    i = skipWs(b, i + 1); // the colon
    const valueEnd = skipValue(b, i);
    members.push({ start: keyStart, end: valueEnd, drop: keys.has(key) });
    i = skipWs(b, valueEnd);
    if (b[i] === 0x2c) i = skipWs(b, i + 1);
    else break;
  }
  if (!members.some((m) => m.drop)) return [];
  // Cut each dropped member with the separator that follows it (or, for the last kept
  // position, the one before it), so the object stays well formed.
  const cuts: number[] = [];
  members.forEach((m, k) => {
    if (!m.drop) return;
    const next = members[k + 1];
    if (next) {
      cuts.push(m.start, next.start);
    } else {
      const prevKept = members.slice(0, k).reverse().find((p) => !p.drop);
      cuts.push(prevKept ? prevKept.end : m.start, m.end);
    }
  });
  return mergeRanges(cuts);
}

function mergeRanges(cuts: number[]): number[] {
  const pairs: [number, number][] = [];
  for (let k = 0; k < cuts.length; k += 2) pairs.push([cuts[k] as number, cuts[k + 1] as number]);
  pairs.sort((x, y) => x[0] - y[0]);
  const out: number[] = [];
  for (const [s, e] of pairs) {
    const last = out.length - 1;
    if (last > 0 && s <= (out[last] as number)) out[last] = Math.max(out[last] as number, e);
    else out.push(s, e);
  }
  return out;
}

/** The bytes of `b` without the ranges in `cuts`. */
export function applyCuts(b: Uint8Array, cuts: readonly number[]): Buffer {
  const parts: Uint8Array[] = [];
  let at = 0;
  for (let k = 0; k < cuts.length; k += 2) {
    parts.push(b.subarray(at, cuts[k]));
    at = cuts[k + 1] as number;
  }
  parts.push(b.subarray(at));
  return Buffer.concat(parts);
}
