// more apples, the plain one: `more_apples` → `<userId>/got_more_apples` with a fixed set.
import { defineHandler } from '../index.ts';
import { PLAIN_MORE_APPLES } from './apple-basket.ts';

export default defineHandler({
  name: 'more-apples',
  events: ['got_more_apples'],
  commands: {
    more_apples: async ({ userId, emit }) => {
      await emit(userId, 'got_more_apples', { source: 'more-apples', apples: PLAIN_MORE_APPLES });
    },
  },
});
