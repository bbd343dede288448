// The limit settings are resolved and validated once, with their defaults (broker/limits/limits.ts).
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_FILTERS_PER_SUBSCRIBE,
  DEFAULT_MAX_RETAINED_BYTES_PER_PARTITION,
  DEFAULT_MAX_RETAINED_PER_PARTITION,
  DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION,
  resolveLimits,
} from '../../broker/limits/limits.ts';

describe('resolveLimits: filters per SUBSCRIBE and retained messages per partition', () => {
  it('defaults: 100 filters (not below the subscriptions per connection), 100 retained messages and 1 MiB per partition', () => {
    const limits = resolveLimits({});
    expect(limits.maxFiltersPerSubscribe).toBe(DEFAULT_MAX_FILTERS_PER_SUBSCRIBE);
    expect(DEFAULT_MAX_FILTERS_PER_SUBSCRIBE).toBeGreaterThanOrEqual(
      DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION,
    );
    expect(limits.retained).toEqual({
      maxPerPartition: DEFAULT_MAX_RETAINED_PER_PARTITION,
      maxBytesPerPartition: DEFAULT_MAX_RETAINED_BYTES_PER_PARTITION,
    });
    expect(limits.retained).toEqual({ maxPerPartition: 100, maxBytesPerPartition: 1024 * 1024 });
  });

  it('takes whole numbers and refuses anything else, naming the setting', () => {
    const limits = resolveLimits({
      MAX_FILTERS_PER_SUBSCRIBE: '8',
      MAX_RETAINED_PER_PARTITION: '500',
      MAX_RETAINED_BYTES_PER_PARTITION: '65536',
    });
    expect(limits.maxFiltersPerSubscribe).toBe(8);
    expect(limits.retained).toEqual({ maxPerPartition: 500, maxBytesPerPartition: 65536 });
    for (const [name, value] of [
      ['MAX_FILTERS_PER_SUBSCRIBE', '0'],
      ['MAX_RETAINED_PER_PARTITION', '1.5'],
      ['MAX_RETAINED_BYTES_PER_PARTITION', 'lots'],
    ] as const) {
      expect(() => resolveLimits({ [name]: value })).toThrow(
        expect.objectContaining({ code: 'ERR_CONFIG_INVALID', message: expect.stringContaining(name) }),
      );
    }
  });
});
