// The connect and disconnect lines at info: identity, client id, transport, address, and on
// disconnect the reason and the session's duration — over real TLS and WSS connections.
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, TEST_SECRET, type TestBroker } from '../support/broker.ts';
import { closed, connectClient, connected, TRANSPORTS } from '../support/clients.ts';
import { handlerToken, userToken } from '../support/tokens.ts';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker({ JWT_CLOCK_TOLERANCE: '0' });
});
afterAll(async () => {
  await broker.close();
});

const lineOf =
  (msg: string, clientId: string) =>
  (line: Record<string, unknown>): boolean =>
    line.msg === msg && line.clientId === clientId;

describe.each(TRANSPORTS)('over %s', (transport) => {
  it('logs the connect and the clean disconnect with their fields', async () => {
    const clientId = `logan/${transport}-clean`;
    const client = await connected(connectClient(broker, transport, clientId, userToken('logan')));
    const connect = await broker.waitForLog(lineOf('client connected', clientId));
    expect(connect).toMatchObject({
      level: 30,
      event: 'connect',
      identity: 'user:logan',
      transport,
      address: '127.0.0.1',
      cleanSession: true,
    });
    await client.endAsync();
    const disconnect = await broker.waitForLog(lineOf('client disconnected', clientId));
    expect(disconnect).toMatchObject({
      level: 30,
      event: 'disconnect',
      identity: 'user:logan',
      transport,
      address: '127.0.0.1',
      reason: 'client-disconnect',
    });
    expect(disconnect.sessionMs).toEqual(expect.any(Number));
    expect(disconnect.sessionMs as number).toBeGreaterThanOrEqual(0);
  });

  it('says connection-closed when the socket goes without DISCONNECT', async () => {
    const clientId = `logan/${transport}-abrupt`;
    const client = await connected(connectClient(broker, transport, clientId, userToken('logan')));
    client.stream.destroy();
    const line = await broker.waitForLog(lineOf('client disconnected', clientId));
    expect(line.reason).toBe('connection-closed');
    client.end(true);
  });
});

describe('disconnect reasons the broker causes', () => {
  it('says token-expired when the token ran out', async () => {
    const clientId = 'logan/expiring';
    const exp = Math.floor(Date.now() / 1000) + 2;
    const token = jwt.sign({ sub: 'logan', exp }, TEST_SECRET, { algorithm: 'HS256' });
    const client = await connected(connectClient(broker, 'mqtts', clientId, token));
    await closed(client, 8000);
    const line = await broker.waitForLog(lineOf('client disconnected', clientId), 8000);
    expect(line.reason).toBe('token-expired');
    client.end(true);
  });

  it('says broker-stopping for the clients of a broker being closed, and names handlers', async () => {
    const other = await startTestBroker();
    const clientId = '$handler/ping/one';
    const client = await connected(
      connectClient(other, 'mqtts', clientId, handlerToken('ping', ['ping'], [])),
    );
    await other.waitForLog(lineOf('client connected', clientId));
    await other.close();
    const line = await other.waitForLog(lineOf('client disconnected', clientId));
    expect(line).toMatchObject({ identity: 'handler:ping', reason: 'broker-stopping' });
    client.end(true);
  });

  it('writes no connect line for a refused CONNECT', async () => {
    const clientId = 'mallory/phone';
    const client = connectClient(broker, 'mqtts', clientId, userToken('logan'));
    await expect(connected(client)).rejects.toThrow();
    await broker.waitForLog((line) => line.audit === 'refused' && line.clientId === clientId);
    expect(broker.logLines.filter(lineOf('client connected', clientId))).toEqual([]);
    client.end(true);
  });
});
