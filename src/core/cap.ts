/**
 * The per-dataset example cap. Each file's subset comes from a stream keyed by that file's id
 * alone, so it does not change when other files are added or listed in another order
 * (upstream fault 6 drew every file's subset from one shared stream).
 */
import { identity, sampleSorted, streamFor } from './rng.js';

export function capRecords(records: number, max: number | null, seed: number, fileId: string): Uint32Array {
  if (max === null || records <= max) return identity(records);
  return sampleSorted(records, max, streamFor(seed, 'cap', fileId));
}
