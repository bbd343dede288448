// withTimeout: settles like the promise, or with the timeout's error, and never leaves its timer behind.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { withTimeout } from '../../protocol/index.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('withTimeout', () => {
  it('resolves with the value and clears its timer', async () => {
    vi.useFakeTimers();
    await expect(withTimeout(Promise.resolve(7), 1000, () => new Error('late'))).resolves.toBe(7);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("rejects with onTimeout's error when the promise takes longer", async () => {
    vi.useFakeTimers();
    const waiting = withTimeout(new Promise(() => undefined), 1000, () => new Error('late'));
    const settled = expect(waiting).rejects.toThrow('late');
    await vi.advanceTimersByTimeAsync(1000);
    await settled;
  });

  it('passes a rejection on, wrapping what is not an Error', async () => {
    await expect(withTimeout(Promise.reject(new Error('no')), 1000, () => new Error('late'))).rejects.toThrow(
      'no',
    );
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a non-Error rejection is the case
    await expect(withTimeout(Promise.reject('text'), 1000, () => new Error('late'))).rejects.toThrow('text');
  });
});
