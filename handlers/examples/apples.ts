// apples: `get_apples` → the event `<userId>/got_apples` with three apples (and a reply for requests).
import { defineHandler } from '../index.ts';
import { FIRST_APPLES } from './apple-basket.ts';

export default defineHandler({
  name: 'apples',
  events: ['got_apples'],
  commands: {
    get_apples: async ({ userId, emit }) => {
      const apples = { source: 'apples', apples: FIRST_APPLES };
      await emit(userId, 'got_apples', apples);
      return apples;
    },
  },
});
