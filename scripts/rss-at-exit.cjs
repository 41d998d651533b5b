// Preloaded by the benchmark (node -r): reports the process's peak resident set size, worker
// threads included, to the file named in SAMEBATCH_RSS_FILE when the process exits.
const fs = require('node:fs');
process.on('exit', () => {
  const file = process.env.SAMEBATCH_RSS_FILE;
  if (file) fs.writeFileSync(file, String(process.resourceUsage().maxRSS * 1024));
});
