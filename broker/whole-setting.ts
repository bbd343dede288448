// A whole-number setting, read once at start: absent or blank → its default; anything else must be a
// whole number within [min, max], or the start fails naming the setting (ERR_CONFIG_INVALID).
import { CashewError } from '../protocol/index.ts';

export function wholeSetting(
  raw: string | undefined,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const text = raw?.trim();
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new CashewError(
      'ERR_CONFIG_INVALID',
      `${name}=${JSON.stringify(text)} is invalid: expected a whole number ${min}-${max}`,
    );
  }
  return value;
}
