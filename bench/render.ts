// Re-renders bench/results/<mode>.{md,svg} (and the JSON summaries) from a results JSON, e.g. after a
// change to the report format: `node --import tsx bench/render.ts bench/results/full.json`.
import { readFileSync } from 'node:fs';
import { CERTIFICATE_LABELS } from './lib/certificates.ts';
import { writeResults, type RunResults } from './lib/output.ts';

const [path = 'bench/results/full.json'] = process.argv.slice(2);
const saved = JSON.parse(readFileSync(path, 'utf8')) as RunResults & {
  versions?: Record<string, string>;
  certificate?: string;
};
// runs saved before `--cert` existed used the dev certificate
writeResults({
  ...saved,
  certificate: saved.certificate ?? CERTIFICATE_LABELS.ec,
  versions: { node: process.version, ...saved.versions },
});
