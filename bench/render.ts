/** Re-renders the Markdown of a results file: `node --import tsx bench/render.ts bench/results/<label>.json`. */
import { readFileSync, writeFileSync } from 'node:fs';
import { renderMarkdown } from './lib/report.ts';
import type { BenchResults } from './run.ts';

for (const file of process.argv.slice(2)) {
  const results = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
  writeFileSync(file.replace(/\.json$/, '.md'), renderMarkdown(results));
  console.log(`rendered ${file.replace(/\.json$/, '.md')}`);
}
