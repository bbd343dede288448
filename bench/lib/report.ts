// Results: one row per measured metric with every repetition per system; the median is reported.
// Written as a Markdown table, JSON, and an SVG chart of the Cashew / raw Aedes ratios with targets.
import { cpus, totalmem } from 'node:os';
import { median, ratio } from './stats.ts';
import { SYSTEM_LABELS, SYSTEMS, type SystemName } from './systems.ts';

export type Target =
  | { readonly kind: 'ratio-max' | 'ratio-min' | 'mosquitto-ratio-max'; readonly value: number }
  | { readonly kind: 'min' | 'max'; readonly value: number }
  | { readonly kind: 'delta-max'; readonly value: number; readonly unit: string };

export interface ResultRow {
  readonly scenario: string;
  readonly case: string;
  readonly metric: string;
  readonly transport: 'TCP' | 'TLS' | 'WSS' | '—';
  readonly runs: Partial<Record<SystemName, number[]>>;
  readonly target?: Target;
  readonly note?: string;
}

export interface Summary extends ResultRow {
  readonly medians: Partial<Record<SystemName, number>>;
  readonly vsAedes: number;
  readonly vsMosquitto: number;
  /** Lowest and highest per-repetition ratio (paired), to show the noise beside each ratio. */
  readonly vsAedesSpread: readonly [number, number] | undefined;
  readonly vsMosquittoSpread: readonly [number, number] | undefined;
  readonly met: boolean | undefined;
}

/**
 * Cashew ÷ another system. Repetition i of both was measured in the same interleaved round, so the
 * ratio is taken per repetition and the median of those ratios reported (a paired comparison: a noisy
 * neighbour during one round weighs on both sides of its ratio). Falls back to the ratio of medians.
 */
function pairedRatios(row: ResultRow, other: SystemName): number[] | undefined {
  const mine = row.runs.cashew ?? [];
  const theirs = row.runs[other] ?? [];
  if (mine.length > 1 && mine.length === theirs.length) {
    return mine.map((value, index) => ratio(value, theirs[index] ?? Number.NaN));
  }
  return undefined;
}

function pairedRatio(
  row: ResultRow,
  other: SystemName,
  cashewMedian: number,
  otherMedian: number | undefined,
): number {
  const paired = pairedRatios(row, other);
  return paired !== undefined ? median(paired) : ratio(cashewMedian, otherMedian ?? Number.NaN);
}

function spreadOf(row: ResultRow, other: SystemName): readonly [number, number] | undefined {
  const paired = pairedRatios(row, other)?.filter((value) => Number.isFinite(value));
  if (paired === undefined || paired.length < 2) return undefined;
  return [Math.min(...paired), Math.max(...paired)];
}

export function summarize(row: ResultRow): Summary {
  const medians: Partial<Record<SystemName, number>> = {};
  for (const system of SYSTEMS) {
    const runs = row.runs[system];
    if (runs !== undefined && runs.length > 0) medians[system] = median(runs);
  }
  const cashew = medians.cashew ?? Number.NaN;
  const vsAedes = pairedRatio(row, 'aedes', cashew, medians.aedes);
  const vsMosquitto = pairedRatio(row, 'mosquitto', cashew, medians.mosquitto);
  let met: boolean | undefined;
  const { target } = row;
  if (target?.kind === 'ratio-max') met = vsAedes <= target.value;
  else if (target?.kind === 'ratio-min') met = vsAedes >= target.value;
  else if (target?.kind === 'min') met = cashew >= target.value;
  else if (target?.kind === 'max') met = cashew <= target.value;
  else if (target?.kind === 'mosquitto-ratio-max') met = vsMosquitto <= target.value;
  else if (target?.kind === 'delta-max') met = cashew - (medians.aedes ?? Number.NaN) <= target.value;
  if (met !== undefined && !Number.isFinite(cashew)) met = false;
  return {
    ...row,
    medians,
    vsAedes,
    vsMosquitto,
    vsAedesSpread: spreadOf(row, 'aedes'),
    vsMosquittoSpread: spreadOf(row, 'mosquitto'),
    met,
  };
}

export function formatNumber(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  const magnitude = Math.abs(value);
  if (magnitude >= 1000) return Math.round(value).toLocaleString('en-US');
  if (magnitude >= 100) return value.toFixed(0);
  if (magnitude >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function formatRatio(value: number, spread?: readonly [number, number]): string {
  if (!Number.isFinite(value)) return '—';
  const range = spread === undefined ? '' : ` (${spread[0].toFixed(2)}–${spread[1].toFixed(2)})`;
  return `${value.toFixed(2)}×${range}`;
}

function formatTarget(target: Target | undefined): string {
  if (target === undefined) return '';
  switch (target.kind) {
    case 'ratio-max':
      return `≤ ${target.value}× Aedes`;
    case 'ratio-min':
      return `≥ ${target.value}× Aedes`;
    case 'mosquitto-ratio-max':
      return `≤ ${target.value}× Mosquitto`;
    case 'min':
      return `≥ ${formatNumber(target.value)}`;
    case 'max':
      return `≤ ${formatNumber(target.value)}`;
    case 'delta-max':
      return `≤ Aedes + ${target.value} ${target.unit}`;
  }
}

export function markdownTable(summaries: readonly Summary[]): string {
  const header = [
    '| # | case | metric | transport | Cashew | raw Aedes | Mosquitto | Cashew / Aedes (spread) | Cashew / Mosquitto (spread) | target | met |',
    '| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |',
  ];
  const lines = summaries.map((row) =>
    [
      row.scenario,
      row.case,
      row.metric,
      row.transport,
      formatNumber(row.medians.cashew),
      formatNumber(row.medians.aedes),
      formatNumber(row.medians.mosquitto),
      formatRatio(row.vsAedes, row.vsAedesSpread),
      formatRatio(row.vsMosquitto, row.vsMosquittoSpread),
      formatTarget(row.target),
      row.met === undefined ? '' : row.met ? 'yes' : '**no**',
    ].join(' | '),
  );
  const notes = summaries
    .filter((row) => row.note !== undefined)
    .map((row) => `- ${row.scenario} ${row.case}, ${row.metric}: ${row.note ?? ''}`);
  return [...header, ...lines.map((line) => `| ${line} |`), '', ...notes].join('\n');
}

export interface RunInfo {
  readonly mode: 'full' | 'quick';
  readonly startedAt: string;
  readonly durationSec: number;
  readonly repetitions: number;
  readonly brokerCpus: string;
  readonly generatorCpus: string;
  readonly versions: Record<string, string>;
}

export function machineInfo(): Record<string, unknown> {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
}

const escapeXml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Horizontal bars: Cashew / raw Aedes per targeted row (1.0 = parity), the target as a red tick. */
export function ratioChart(summaries: readonly Summary[]): string {
  const rows = summaries.filter(
    (row) =>
      (row.target?.kind === 'ratio-max' || row.target?.kind === 'ratio-min') && Number.isFinite(row.vsAedes),
  );
  const barHeight = 22;
  const labelWidth = 360;
  const chartWidth = 420;
  const maxRatio = Math.max(
    2,
    ...rows.map((row) => row.vsAedes),
    ...rows.map((row) => row.target?.value ?? 0),
  );
  const scale = chartWidth / maxRatio;
  const height = 50 + rows.length * barHeight + 30;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${labelWidth + chartWidth + 80}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<text x="10" y="20" font-size="14" font-weight="bold">Cashew / raw Aedes (medians; green = target met, red tick = target)</text>`,
    `<line x1="${labelWidth + scale}" y1="30" x2="${labelWidth + scale}" y2="${height - 25}" stroke="#888" stroke-dasharray="4 3"/>`,
    `<text x="${labelWidth + scale - 10}" y="${height - 10}" fill="#555">1.0×</text>`,
  ];
  rows.forEach((row, index) => {
    const y = 40 + index * barHeight;
    const width = Math.max(1, row.vsAedes * scale);
    const colour = row.met === true ? '#3a9d5d' : '#d9534f';
    const label = `${row.scenario} ${row.case} — ${row.metric}`;
    parts.push(
      `<text x="10" y="${y + 14}">${escapeXml(label.length > 58 ? `${label.slice(0, 57)}…` : label)}</text>`,
      `<rect x="${labelWidth}" y="${y + 3}" width="${width.toFixed(1)}" height="${barHeight - 8}" fill="${colour}"/>`,
      `<text x="${labelWidth + width + 4}" y="${y + 14}">${row.vsAedes.toFixed(2)}×</text>`,
    );
    const targetX = labelWidth + (row.target?.value ?? 0) * scale;
    parts.push(
      `<line x1="${targetX.toFixed(1)}" y1="${y + 1}" x2="${targetX.toFixed(1)}" y2="${y + barHeight - 3}" stroke="#c00" stroke-width="2"/>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

export { SYSTEM_LABELS };
