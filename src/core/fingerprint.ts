/**
 * The run's fingerprint: what an output depends on (input contents, the options that shape the
 * data, the tool version), as three digests. Pure: the io layer hashes the files' bytes and
 * hands the digests in. `build --if-changed` compares the fingerprint in an earlier manifest
 * with the current one.
 */
import { createHash } from 'node:crypto';

export interface Fingerprint {
  /** sha256 over each data file's identity (id, argument, flag) and content digest, in input order. */
  inputs: string;
  /** sha256 of the canonical JSON of the data-shaping options. */
  options: string;
  /** samebatch version that wrote the output. */
  version: string;
}

/** What the input digest is made of for one data file; nothing here depends on where the data lies. */
export interface InputIdentity {
  id: string;
  argIndex: number;
  fromFileArg: boolean;
  noInBatchNeg: boolean;
  /** sha256 of the file's bytes as stored. */
  sha256: string;
  /**
   * The path as shown, only when it is part of the output: with --provenance every batch line
   * names it, so moving the data changes the bytes even though the contents did not.
   */
  path?: string;
}

/** JSON with object keys sorted at every level, so equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function makeFingerprint(inputs: readonly InputIdentity[], dataOptions: Record<string, unknown>, version: string): Fingerprint {
  const files = inputs.map((f) => ({
    id: f.id,
    arg: f.argIndex,
    file_arg: f.fromFileArg,
    no_in_batch_neg: f.noInBatchNeg,
    sha256: f.sha256,
    ...(f.path === undefined ? {} : { path: f.path }),
  }));
  return { inputs: sha256Hex(canonicalJson(files)), options: sha256Hex(canonicalJson(dataOptions)), version };
}

/** A fingerprint read back from a manifest, or null when the value is not one. */
export function asFingerprint(value: unknown): Fingerprint | null {
  if (value === null || typeof value !== 'object') return null;
  const v = value as Record<string, unknown>;
  if (typeof v.inputs !== 'string' || typeof v.options !== 'string' || typeof v.version !== 'string') return null;
  return { inputs: v.inputs, options: v.options, version: v.version };
}

/** Which parts of two fingerprints differ, in a fixed order; empty when they are the same. */
export function fingerprintChanges(earlier: Fingerprint, now: Fingerprint): ('inputs' | 'options' | 'version')[] {
  const out: ('inputs' | 'options' | 'version')[] = [];
  if (earlier.version !== now.version) out.push('version');
  if (earlier.options !== now.options) out.push('options');
  if (earlier.inputs !== now.inputs) out.push('inputs');
  return out;
}
