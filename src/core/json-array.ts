/**
 * Splits the text of a `.json` file holding one JSON array into its top-level elements, with the
 * line and column where each starts, so that every element can be parsed (and its errors
 * located) on its own. Pure; does not validate the elements themselves.
 */

export interface ArrayElement {
  /** Character range of the element's text in the input. */
  start: number;
  end: number;
  /** 1-based line and column of the element's first character. */
  line: number;
  column: number;
}

export interface ArraySyntaxError {
  error: string;
  line: number;
  column: number;
}

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

export function splitJsonArray(text: string, from = 0): ArrayElement[] | ArraySyntaxError {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < from; i++) if (text.charCodeAt(i) === 0x0a) { line++; lineStart = i + 1; }
  const at = (i: number, error: string): ArraySyntaxError => ({ error, line, column: i - lineStart + 1 });

  let i = from;
  const skipWs = (): void => {
    while (i < text.length && isWs(text.charCodeAt(i))) {
      if (text.charCodeAt(i) === 0x0a) {
        line++;
        lineStart = i + 1;
      }
      i++;
    }
  };

  skipWs();
  if (text[i] !== '[') return at(i, 'expected "[" to open the JSON array');
  i++;
  const out: ArrayElement[] = [];
  skipWs();
  if (text[i] === ']') {
    i++;
    skipWs();
    return i === text.length ? out : at(i, 'unexpected text after the JSON array');
  }
  for (;;) {
    skipWs();
    if (i >= text.length) return at(i, 'unexpected end of file inside the JSON array');
    const el: ArrayElement = { start: i, end: i, line, column: i - lineStart + 1 };
    // Scan one value: track nesting and strings only; the element's own parse finds other faults.
    let depth = 0;
    let inString = false;
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x0a) {
        line++;
        lineStart = i + 1;
      }
      if (inString) {
        if (c === 0x5c) i++;
        else if (c === 0x22) inString = false;
        continue;
      }
      if (c === 0x22) inString = true;
      else if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) {
        if (depth === 0) break;
        depth--;
      } else if (c === 0x2c && depth === 0) break;
    }
    let end = i;
    while (end > el.start && isWs(text.charCodeAt(end - 1))) end--;
    el.end = end;
    if (el.end === el.start) return at(i, 'empty element in the JSON array');
    out.push(el);
    if (i >= text.length) return at(i, 'unexpected end of file inside the JSON array');
    if (text[i] === ']') {
      i++;
      skipWs();
      return i === text.length ? out : at(i, 'unexpected text after the JSON array');
    }
    if (text[i] !== ',') return at(i, `expected "," or "]" after an array element, got "${text[i]}"`);
    i++;
  }
}
