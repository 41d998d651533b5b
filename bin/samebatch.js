#!/usr/bin/env node
import { main } from '../dist/cli.js';

const status = await main(process.argv);
process.exitCode = status;
// The process ends by itself once standard output has drained. Should some handle stay open
// after that, end anyway: a make or CI step must never wait on a finished run. (Not an
// immediate process.exit: that could cut off output still queued for a pipe.)
setTimeout(() => process.exit(status), 5000).unref();
