// A handler for the request/response tests: echoes, fails on purpose, or answers late.
import { defineHandler, HandlerError } from '../../../handlers/index.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function numberIn(data: unknown, key: string): number {
  const value =
    typeof data === 'object' && data !== null ? (data as Record<string, unknown>)[key] : undefined;
  return typeof value === 'number' ? value : 0;
}

export default defineHandler({
  name: 'echo',
  events: ['echoed'],
  commands: {
    echo: ({ userId, data }) => ({ userId, data, pid: process.pid }),
    fail: () => {
      throw new HandlerError('NO_APPLES', 'the basket is empty');
    },
    crash: () => {
      throw new Error('internal detail that must not leak');
    },
    /** Answers after `data.ms` milliseconds (the pool test's in-flight window). */
    slow: async ({ userId, data, log }) => {
      log.info({ data }, 'slow started');
      await sleep(numberIn(data, 'ms'));
      return { userId, data, pid: process.pid };
    },
    /** Emits `data.count` events `<userId>/echoed {n}` (the offline test). */
    burst: async ({ data, emit }) => {
      const to = (data as { to?: unknown } | null)?.to;
      if (typeof to !== 'string') throw new HandlerError('BAD_TARGET', 'data.to is a user id');
      for (let n = 0; n < numberIn(data, 'count'); n += 1) await emit(to, 'echoed', { n });
      return { sent: numberIn(data, 'count') };
    },
    bytes: async ({ userId, payload, emit }) => {
      await emit(userId, 'echoed', payload);
    },
  },
});
