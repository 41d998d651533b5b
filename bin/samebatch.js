#!/usr/bin/env node
import { main } from '../dist/cli.js';

const status = await main(process.argv);
// Everything is written by now (standard output and the logs are written synchronously): end
// here rather than wait for a handle some library may have left open.
process.exit(status);
