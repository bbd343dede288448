// more apples, the store-backed one: `more_apples` → `<userId>/got_more_apples` with the apples kept
// for that user in a store (an in-process Map, seeded on first use); `add_apple` adds one.
import { defineHandler, HandlerError } from '../index.ts';
import { STORED_MORE_APPLES, type Apple } from './apple-basket.ts';

const store = new Map<string, Apple[]>();

function basketOf(userId: string): Apple[] {
  let basket = store.get(userId);
  if (basket === undefined) {
    basket = [...STORED_MORE_APPLES];
    store.set(userId, basket);
  }
  return basket;
}

function isApple(value: unknown): value is Apple {
  if (typeof value !== 'object' || value === null) return false;
  const { colour, variety } = value as Record<string, unknown>;
  return typeof colour === 'string' && typeof variety === 'string';
}

export default defineHandler({
  name: 'more-apples-store',
  events: ['got_more_apples'],
  commands: {
    more_apples: async ({ userId, emit }) => {
      await emit(userId, 'got_more_apples', { source: 'more-apples-store', apples: basketOf(userId) });
    },
    add_apple: ({ userId, data }) => {
      if (!isApple(data)) throw new HandlerError('BAD_APPLE', 'an apple has a colour and a variety');
      basketOf(userId).push(data);
      return { count: basketOf(userId).length };
    },
  },
});
