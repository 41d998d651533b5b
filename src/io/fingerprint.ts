/**
 * Hashing the data files' bytes for the run's fingerprint, and reading an earlier output's
 * fingerprint back for `build --if-changed`.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { asFingerprint, makeFingerprint, type Fingerprint } from '../core/fingerprint.js';
import { SamebatchError } from '../errors.js';
import type { DataFile } from '../types.js';
import { MANIFEST_FILE, MANIFEST_TOOL } from './output.js';

/** Files hashed at once: enough to keep a disk busy, few enough not to fight the indexer. */
const HASH_CONCURRENCY = 4;

/** sha256 of a file's bytes, streamed (never the whole file in memory). */
export async function hashFile(file: DataFile, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  try {
    const stream = fs.createReadStream(file.absPath, { highWaterMark: 1 << 20, ...(signal === undefined ? {} : { signal }) });
    for await (const chunk of stream) hash.update(chunk as Buffer);
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    const e = err as NodeJS.ErrnoException;
    throw new SamebatchError('E_READ', `${file.path}: cannot read (${e.code ?? 'error'}): ${e.message}`, { location: { file: file.path }, cause: err });
  }
  return hash.digest('hex');
}

/** The fingerprint of a run over `files` with the given data-shaping options. */
export async function fingerprintInputs(
  files: readonly DataFile[],
  dataOptions: Record<string, unknown>,
  version: string,
  signal?: AbortSignal,
): Promise<Fingerprint> {
  const digests: string[] = new Array<string>(files.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const i = next++;
      digests[i] = await hashFile(files[i]!, signal);
    }
  };
  await Promise.all(Array.from({ length: Math.min(HASH_CONCURRENCY, files.length) }, worker));
  const withPaths = dataOptions.provenance === true;
  return makeFingerprint(
    files.map((f, i) => ({
      id: f.id,
      argIndex: f.argIndex,
      fromFileArg: f.fromFileArg,
      noInBatchNeg: f.noInBatchNeg,
      sha256: digests[i]!,
      ...(withPaths ? { path: f.path } : {}),
    })),
    dataOptions,
    version,
  );
}

export interface EarlierOutput {
  fingerprint: Fingerprint | null;
  /** Shards the manifest lists that are missing or not of the listed size (a damaged output). */
  damaged: string[];
  manifest: Record<string, unknown>;
}

/**
 * The samebatch output in `dir`, or null when there is none (no directory, no manifest, or a
 * manifest samebatch did not write). Only the manifest is read; shards are checked by size.
 */
export function readEarlierOutput(dir: string): EarlierOutput | null {
  let manifest: Record<string, unknown>;
  try {
    const v = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST_FILE), 'utf8')) as unknown;
    if (v === null || typeof v !== 'object' || (v as Record<string, unknown>).tool !== MANIFEST_TOOL) return null;
    manifest = v as Record<string, unknown>;
  } catch {
    return null;
  }
  const damaged: string[] = [];
  const shards = Array.isArray(manifest.shards) ? (manifest.shards as unknown[]) : [];
  for (const s of shards) {
    const entry = s as { file?: unknown; bytes?: unknown };
    if (typeof entry.file !== 'string' || typeof entry.bytes !== 'number') continue;
    try {
      if (fs.statSync(path.join(dir, entry.file)).size !== entry.bytes) damaged.push(entry.file);
    } catch {
      damaged.push(entry.file);
    }
  }
  return { fingerprint: asFingerprint(manifest.fingerprint), damaged, manifest };
}
