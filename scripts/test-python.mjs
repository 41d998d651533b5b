#!/usr/bin/env node
// Runs the Python reader's tests (python/tests/run.py) with Debian's python3 when there is one
// (that is where python3-torch installs), else the python3 on PATH.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

const python = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const r = spawnSync(python, ['python/tests/run.py'], { stdio: 'inherit' });
if (r.error) {
  console.error(`cannot run ${python}: ${r.error.message}`);
  process.exit(1);
}
process.exit(r.status ?? 1);
