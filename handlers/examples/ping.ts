// ping → pong: answers `<userId>/ping` with the event `<userId>/pong` (and a reply for requests).
import { defineHandler } from '../index.ts';

export default defineHandler({
  name: 'ping',
  events: ['pong'],
  commands: {
    ping: async ({ userId, data, emit }) => {
      await emit(userId, 'pong', data ?? null);
      return 'pong';
    },
  },
});
