// ExpiryWheel: never early, at most one slot late, one timer for all keys, reschedule and cancel.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ExpiryWheel } from '../../broker/aedes/expiry-wheel.ts';

let due: string[];
let wheel: ExpiryWheel<string>;

beforeEach(() => {
  vi.useFakeTimers({ now: 10_000 });
  due = [];
  wheel = new ExpiryWheel<string>((key) => due.push(key), 1000);
});

afterEach(() => {
  vi.useRealTimers();
});

describe('ExpiryWheel', () => {
  it('calls a key once its time has passed, never before, at most one slot late', () => {
    wheel.schedule('a', 12_300);
    vi.advanceTimersByTime(2_299);
    expect(due).toEqual([]);
    vi.advanceTimersByTime(701);
    expect(due).toEqual(['a']);
    expect(wheel.size).toBe(0);
  });

  it('keeps one timer for every key', () => {
    for (let i = 0; i < 1000; i++) wheel.schedule(`k${i}`, 11_000 + i * 10);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(11_000);
    expect(due).toHaveLength(1000);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reschedules (a refreshed token) and cancels (a disconnect)', () => {
    wheel.schedule('a', 11_000);
    wheel.schedule('b', 11_000);
    wheel.reschedule('a', 20_000);
    expect(wheel.cancel('b')).toBe(true);
    expect(wheel.cancel('b')).toBe(false);
    vi.advanceTimersByTime(5_000);
    expect(due).toEqual([]);
    expect(wheel.has('a')).toBe(true);
    vi.advanceTimersByTime(5_000);
    expect(due).toEqual(['a']);
  });

  it('arms an earlier slot when one is scheduled before the armed one, and disarms when empty', () => {
    wheel.schedule('late', 60_000);
    wheel.schedule('soon', 11_000);
    vi.advanceTimersByTime(1_000);
    expect(due).toEqual(['soon']);
    wheel.cancel('late');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reaches expiries past the 24.8-day limit of one Node timer, and past ones at once', () => {
    const far = 10_000 + 30 * 86_400_000;
    wheel.schedule('far', far);
    wheel.schedule('past', 0);
    vi.advanceTimersByTime(0);
    expect(due).toEqual(['past']);
    vi.advanceTimersByTime(far - 10_001);
    expect(due).toEqual(['past']);
    vi.advanceTimersByTime(1);
    expect(due).toEqual(['past', 'far']);
  });

  it('lets a callback schedule again (an expiry moved while it was due)', () => {
    const again = new ExpiryWheel<string>((key) => {
      due.push(key);
      if (due.length === 1) again.schedule(key, Date.now() + 1_000);
    }, 1000);
    again.schedule('a', 11_000);
    vi.advanceTimersByTime(1_000);
    vi.advanceTimersByTime(1_000);
    expect(due).toEqual(['a', 'a']);
  });
});
