// Handler pools: three processes of one handler share the load; one is SIGKILLed mid-run and the
// commands it had received but not finished are re-dispatched: every request gets exactly one reply.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type CashewClient } from '../../client-sdk/index.ts';
import { decodeReply } from '../../protocol/index.ts';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import { closeAll, connectClient, connected } from '../support/clients.ts';
import { startHandlerProcess, stopAll, type ChildHandle } from '../support/processes.ts';
import { userToken } from '../support/tokens.ts';

let broker: TestBroker;
let device: CashewClient;

type SlowReply = { userId: string; data: { k: number }; pid: number };

beforeAll(async () => {
  broker = await startTestBroker();
  device = await connect({ url: broker.wssUrl, token: userToken('pool-user'), mqtt: { ca: broker.ca } });
});

afterAll(async () => {
  await device?.close();
  await stopAll();
  await broker?.close();
});

function pidOf(handle: ChildHandle): number {
  return handle.child.pid ?? -1;
}

/** Counts the replies on the wire per correlation id (duplicates would show here, not in the SDK). */
async function replyCounter(): Promise<{ counts: Map<string, number>; close(): Promise<void> }> {
  const raw = await connected(connectClient(broker, 'wss', 'pool-user/wire', userToken('pool-user')));
  const counts = new Map<string, number>();
  raw.on('message', (_topic, payload) => {
    const reply = decodeReply(payload);
    if (reply !== undefined) counts.set(reply.id, (counts.get(reply.id) ?? 0) + 1);
  });
  await raw.subscribeAsync('pool-user/slow/reply', { qos: 1 });
  return { counts, close: () => closeAll(raw) };
}

describe('a pool of three handler processes', () => {
  it('serves every command exactly once when one member is SIGKILLed mid-run', async () => {
    const members = await Promise.all(
      [1, 2, 3].map(() => startHandlerProcess('test/support/handlers/echo.ts', { url: broker.mqttsUrl })),
    );
    const [victim] = members as [ChildHandle, ChildHandle, ChildHandle];
    const wire = await replyCounter();

    // 90 requests that each take 400 ms in the handler: about 30 are in flight on each member.
    const first = Array.from({ length: 90 }, (_, k) =>
      device.request<SlowReply>('slow', { k, ms: 400 }, { timeout: 20_000 }),
    );
    await victim.waitForLine((line) => line.msg === 'slow started');
    victim.child.kill('SIGKILL');
    expect(await victim.exited).toBe('SIGKILL');
    // After the kill, the two survivors carry on.
    const second = Array.from({ length: 30 }, (_, k) =>
      device.request<SlowReply>('slow', { k: 90 + k, ms: 10 }, { timeout: 20_000 }),
    );
    const replies = await Promise.all([...first, ...second]);

    expect(replies.map((reply) => reply.data.k)).toEqual(Array.from({ length: 120 }, (_, k) => k));
    const servedBy = new Set(replies.map((reply) => reply.pid));
    expect(servedBy.has(pidOf(victim))).toBe(false);
    expect(servedBy.size).toBe(2);
    const redispatch = await broker.waitForLog(
      (line) => line.msg === 'handler left with unacknowledged commands; re-dispatched to the pool',
    );
    expect(redispatch.redispatched).toBeGreaterThan(0);
    expect(redispatch.redispatched).toBe(redispatch.unacknowledged);
    // Exactly one reply per request reached the device's partition.
    await expect.poll(() => wire.counts.size).toBe(120);
    expect([...wire.counts.values()].every((count) => count === 1)).toBe(true);
    console.info(
      `pool: ${String(redispatch.unacknowledged)} commands in flight on the killed member, all re-dispatched`,
    );
    await wire.close();
    await Promise.all(members.map((member) => member.stop('SIGTERM')));
  }, 60_000);

  it('holds the commands of a pool whose last member died and gives them to the next member', async () => {
    const only = await startHandlerProcess('test/support/handlers/echo.ts', { url: broker.mqttsUrl });
    const pending = Array.from({ length: 5 }, (_, k) =>
      device.request<SlowReply>('slow', { k, ms: 1_500 }, { timeout: 20_000 }),
    );
    await only.waitForLine((line) => line.msg === 'slow started');
    only.child.kill('SIGKILL');
    await only.exited;
    const left = await broker.waitForLog(
      (line) =>
        line.msg === 'handler left with unacknowledged commands; re-dispatched to the pool' &&
        line.redispatched === 0,
    );
    expect(left.unacknowledged).toBe(5);
    const next = await startHandlerProcess('test/support/handlers/echo.ts', { url: broker.mqttsUrl });
    const replies = await Promise.all(pending);
    expect(replies.map((reply) => reply.data.k)).toEqual([0, 1, 2, 3, 4]);
    expect(replies.every((reply) => reply.pid === pidOf(next))).toBe(true);
    expect(await next.stop('SIGTERM')).toBe(0);
  }, 60_000);

  it('drains on SIGTERM: in-flight commands are answered, then the process exits 0', async () => {
    const member = await startHandlerProcess('test/support/handlers/echo.ts', { url: broker.mqttsUrl });
    const pending = Array.from({ length: 5 }, (_, k) =>
      device.request<SlowReply>('slow', { k, ms: 500 }, { timeout: 10_000 }),
    );
    await member.waitForLine((line) => line.msg === 'slow started');
    const exit = member.stop('SIGTERM');
    const replies = await Promise.all(pending);
    expect(replies.every((reply) => reply.pid === pidOf(member))).toBe(true);
    expect(await exit).toBe(0);
    expect(member.lines.find((line) => line.msg === 'handler stopped')).toMatchObject({ drained: true });
  }, 30_000);
});

describe('a member leaving gracefully under load', () => {
  it('loses no command: in-flight ones are answered, new ones go to the other member', async () => {
    const [leaving, staying] = await Promise.all(
      [1, 2].map(() => startHandlerProcess('test/support/handlers/echo.ts', { url: broker.mqttsUrl })),
    );
    const requests: Promise<SlowReply>[] = [];
    for (let k = 0; k < 10; k += 1) requests.push(device.request<SlowReply>('slow', { k, ms: 200 }));
    await leaving!.waitForLine((line) => line.msg === 'slow started');
    const exit = leaving!.stop('SIGTERM');
    // Keep sending while it unsubscribes and drains.
    for (let k = 10; k < 60; k += 1) {
      requests.push(device.request<SlowReply>('slow', { k, ms: 20 }));
      if (k % 10 === 0) await requests[k - 5];
    }
    const replies = await Promise.all(requests);
    expect(replies.map((reply) => reply.data.k)).toEqual(Array.from({ length: 60 }, (_, k) => k));
    expect(await exit).toBe(0);
    expect(replies.filter((reply) => reply.pid === pidOf(staying!)).length).toBeGreaterThan(0);
    await staying!.stop('SIGTERM');
  }, 60_000);
});
