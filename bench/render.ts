// Re-renders bench/results/<mode>.{md,svg} (and the JSON summaries) from a results JSON, e.g. after a
// change to the report format: `node --import tsx bench/render.ts bench/results/full.json`.
import { readFileSync } from 'node:fs';
import { writeResults, type RunResults } from './lib/output.ts';

const [path = 'bench/results/full.json'] = process.argv.slice(2);
const saved = JSON.parse(readFileSync(path, 'utf8')) as RunResults & { versions?: Record<string, string> };
writeResults({ ...saved, versions: { node: process.version, ...saved.versions } });
