// Percentiles, medians and ratios for benchmark results.

/** The p-th percentile (0..100) by nearest rank of unsorted samples; NaN when there are none. */
export function percentile(samples: ArrayLike<number>, p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export function median(values: readonly number[]): number {
  const finite = values.filter((value) => Number.isFinite(value));
  return percentile(finite, 50);
}

export function ratio(numerator: number, denominator: number): number {
  return denominator === 0 || !Number.isFinite(denominator) ? Number.NaN : numerator / denominator;
}

/** A bounded reservoir of latency samples (keeps every n-th sample once full). */
export class LatencyRecorder {
  readonly #samples: Float64Array;
  #count = 0;
  #seen = 0;

  constructor(capacity = 200_000) {
    this.#samples = new Float64Array(capacity);
  }

  record(value: number): void {
    this.#seen++;
    if (this.#count < this.#samples.length) this.#samples[this.#count++] = value;
    else this.#samples[this.#seen % this.#samples.length] = value;
  }

  get samples(): Float64Array {
    return this.#samples.subarray(0, this.#count);
  }

  reset(): void {
    this.#count = 0;
    this.#seen = 0;
  }
}
