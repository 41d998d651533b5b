/** Rules about names: which files are data files, and which names mark no in-batch negatives. */

export const DATA_EXTENSIONS = ['.jsonl.gz', '.json.gz', '.jsonl', '.json'] as const;
const NO_IN_BATCH_NEG = 'no_in_batch_neg';

export function isDataFileName(name: string): boolean {
  return DATA_EXTENSIONS.some((ext) => name.endsWith(ext));
}

/** The name without its data extension(s): "nli_no_in_batch_neg.jsonl" → "nli_no_in_batch_neg". */
export function stripDataExtension(name: string): string {
  for (const ext of DATA_EXTENSIONS) {
    if (name.endsWith(ext)) return name.slice(0, -ext.length);
  }
  return name;
}

/** A file argument is marked by its name without extensions (FlagEmbedding's rule). */
export function fileMarksNoInBatchNeg(fileName: string): boolean {
  return stripDataExtension(fileName).endsWith(NO_IN_BATCH_NEG);
}

/**
 * A directory is marked by its own name. The caller passes the base name, so a trailing slash in
 * the argument cannot lose the flag (upstream fault 5).
 */
export function dirMarksNoInBatchNeg(dirName: string): boolean {
  return dirName.endsWith(NO_IN_BATCH_NEG);
}

/** Code-point order, independent of locale and file system (upstream fault 1). */
export function compareCodePoints(a: string, b: string): number {
  // `<` on JS strings compares UTF-16 code units, which orders U+E000..U+FFFF after astral
  // characters; compare code points instead.
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.codePointAt(i) ?? 0;
    const cb = b.codePointAt(i) ?? 0;
    if (ca !== cb) return ca < cb ? -1 : 1;
    if (ca > 0xffff) i++;
  }
  return a.length - b.length;
}
