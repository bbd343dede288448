// Writes a run's results: bench/results/<mode>.md (header + table), .json (every repetition), .svg.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { markdownTable, ratioChart, summarize, type ResultRow } from './report.ts';

export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

export interface RunResults {
  readonly mode: 'full' | 'quick';
  readonly startedAt: string;
  readonly durationSec: number;
  readonly repetitions: number;
  readonly brokerCpus: string | undefined;
  readonly generatorCpus: string | undefined;
  /** The brokers' TLS certificate (bench/lib/certificates.ts). */
  readonly certificate: string;
  readonly machine: Record<string, unknown>;
  readonly versions: Record<string, string>;
  readonly rows: readonly ResultRow[];
}

export function writeResults(results: RunResults): void {
  const summaries = results.rows.map((row) => summarize(row));
  const table = markdownTable(summaries);
  const { mode, versions } = results;
  const header =
    `# Cashew benchmark (${mode})\n\n` +
    `${results.startedAt}, ${results.durationSec.toFixed(0)} s, ${results.repetitions} repetition(s), medians. ` +
    `Brokers pinned to CPU ${results.brokerCpus ?? 'any'}, load generators on CPU ${results.generatorCpus ?? 'any'}; ` +
    `broker CPU from /proc (all threads); TLS certificate ${results.certificate}. aedes ${versions.aedes ?? '?'}, Node ${versions.node ?? '?'}. ` +
    `Ratios are Cashew ÷ the other system, the median of the per-repetition ratios (each repetition ` +
    `measures the systems in one interleaved round).\n\n`;
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, `${mode}.md`), `${header}${table}\n`);
  writeFileSync(join(RESULTS_DIR, `${mode}.svg`), `${ratioChart(summaries)}\n`);
  writeFileSync(
    join(RESULTS_DIR, `${mode}.json`),
    `${JSON.stringify({ ...results, rows: summaries }, null, 2)}\n`,
  );
  process.stdout.write(
    `\n${table}\n\nwritten: bench/results/${mode}.{md,json,svg} (${results.durationSec.toFixed(0)} s)\n`,
  );
}
