// A handler granted presence that relays it: a user asks to watch another (`watch_presence`), and each
// presence event of the watched user is relayed to the watchers as `<watcher>/presence`. A real app
// would check that the two are contacts; the test only needs the relay. Bounded: a user watches at
// most WATCH_LIMIT others.
import { defineHandler, HandlerError } from '../../../handlers/index.ts';

const WATCH_LIMIT = 100;
const watchers = new Map<string, Set<string>>();
const watching = new Map<string, number>();

export default defineHandler({
  name: 'relay',
  events: ['presence'],
  commands: {
    watch_presence: ({ userId, data }) => {
      const of = (data as { of?: unknown } | null)?.of;
      if (typeof of !== 'string') throw new HandlerError('BAD_TARGET', 'data.of is a user id');
      if ((watching.get(userId) ?? 0) >= WATCH_LIMIT) throw new HandlerError('TOO_MANY', 'watching too many');
      const set = watchers.get(of) ?? new Set<string>();
      if (!set.has(userId)) watching.set(userId, (watching.get(userId) ?? 0) + 1);
      set.add(userId);
      watchers.set(of, set);
      return { watching: of };
    },
  },
  presence: async (event, { relay, log }) => {
    const to = [...(watchers.get(event.userId) ?? [])];
    log.info({ online: event.online, to }, 'relaying presence');
    await Promise.all(to.map((watcher) => relay(watcher)));
  },
});
