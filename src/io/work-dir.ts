/**
 * A private scratch directory for one run: decompressed gzip inputs and JSON arrays rewritten as
 * JSON Lines live here, so every record can be fetched by (file, offset, length) later.
 * Removed when the run ends, however it ends.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SamebatchError } from '../errors.js';

export class WorkDir {
  private dir: string | null = null;
  private n = 0;

  /** A fresh path inside the scratch directory (created on first use). */
  newFile(hint: string): string {
    if (this.dir === null) {
      try {
        this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samebatch-work-'));
      } catch (err) {
        throw new SamebatchError('E_WRITE', `${os.tmpdir()}: cannot create a scratch directory (${(err as NodeJS.ErrnoException).code ?? 'error'})`, {
          cause: err,
        });
      }
    }
    this.n++;
    return path.join(this.dir, `${this.n}-${hint.replace(/[^A-Za-z0-9._-]/g, '_')}`);
  }

  dispose(): void {
    if (this.dir !== null) fs.rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
  }
}
