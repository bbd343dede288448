// A persistent session (clean: false) never delivers for a refused filter, although aedes stores the
// whole SUBSCRIBE: messages queued while offline for a foreign filter stay behind, own ones arrive.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { persistenceOf } from '../../broker/aedes/broker-internals.ts';
import { auditOf, startTestBroker, type TestBroker } from '../support/broker.ts';
import {
  closeAll,
  connectClient,
  connected,
  recordMessages,
  subscribeRaw,
  TRANSPORTS,
} from '../support/clients.ts';
import { userToken } from '../support/tokens.ts';

/** The part of aedes' persistence that decides which offline sessions a message is queued for. */
interface OfflineIndex {
  subscriptionsByTopic(topic: string): Promise<{ clientId: string }[]>;
}

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

describe.each(TRANSPORTS)('over %s', (transport) => {
  it('delivers own queued messages after a reconnect and nothing for the refused foreign filter', async () => {
    const sessionId = `68946/persistent-${transport}`;
    const session = { clean: false } as const;
    const first = await connected(connectClient(broker, transport, sessionId, userToken('68946'), session));
    expect(await subscribeRaw(first, ['68946/#', '4711/#', '+/secret'])).toEqual([1, 128, 128]);
    await first.endAsync();

    const foreignOwner = await connected(
      connectClient(broker, transport, `4711/owner-${transport}`, userToken('4711')),
    );
    const otherDevice = await connected(
      connectClient(broker, transport, `68946/web-${transport}`, userToken('68946')),
    );
    // the refused filter is not in the offline queue's index: nothing of 4711's is stored for this session
    const persistence = persistenceOf(broker.aedes) as OfflineIndex;
    const stored = await persistence.subscriptionsByTopic('4711/secret');
    expect(stored.filter((sub) => sub.clientId === sessionId)).toEqual([]);
    await foreignOwner.publishAsync('4711/secret', 'theirs-queued', { qos: 1 });
    await otherDevice.publishAsync('68946/inbox', 'mine-queued', { qos: 1 });

    const reconnectAt = broker.logLines.length;
    const second = connectClient(broker, transport, sessionId, userToken('68946'), session);
    const inbox = recordMessages(second);
    const sessionPresent = new Promise<boolean>((resolve) =>
      second.once('connect', (connack) => resolve(connack.sessionPresent)),
    );
    await connected(second);
    expect(await sessionPresent).toBe(true);
    expect((await inbox.waitFor('68946/inbox')).payload).toBe('mine-queued');
    // the restored foreign filter is judged again at the reconnect, and refused again
    await broker.waitForLog(
      (line) =>
        broker.logLines.indexOf(line) >= reconnectAt &&
        auditOf(sessionId, 'subscribe')(line) &&
        line.topic === '4711/#',
    );

    // live messages after the reconnect: the restored foreign filter still delivers nothing
    await foreignOwner.publishAsync('4711/secret', 'theirs-live', { qos: 1 });
    await otherDevice.publishAsync('68946/inbox2', 'mine-live', { qos: 1 });
    await inbox.waitFor('68946/inbox2');
    expect(inbox.messages.map((m) => m.payload)).toEqual(['mine-queued', 'mine-live']);

    second.end(true);
    const cleanup = await connected(
      connectClient(broker, transport, sessionId, userToken('68946'), { clean: true }),
    );
    await closeAll(foreignOwner, otherDevice, cleanup);
  });
});
