// When its token expires the connection is closed, with an audit line (MQTT 3.1.1 has no re-auth).
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditOf, startTestBroker, TEST_SECRET, type TestBroker } from '../support/broker.ts';
import { closeAll, closed, connectClient, connected, TRANSPORTS } from '../support/clients.ts';
import { userToken } from '../support/tokens.ts';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker({ JWT_CLOCK_TOLERANCE: '0' });
});
afterAll(async () => {
  await broker.close();
});

describe.each(TRANSPORTS)('over %s', (transport) => {
  it('closes the connection when the token expires', async () => {
    const clientId = `68946/expiring-${transport}`;
    const exp = Math.floor(Date.now() / 1000) + 3;
    const client = await connected(
      connectClient(
        broker,
        transport,
        clientId,
        jwt.sign({ sub: '68946', exp }, TEST_SECRET, { algorithm: 'HS256' }),
      ),
    );
    const longLived = await connected(
      connectClient(broker, transport, `68946/long-${transport}`, userToken('68946')),
    );
    await closed(client, 8000);
    const audit = await broker.waitForLog(auditOf(clientId, 'expire'));
    expect(audit).toMatchObject({ code: 'ERR_TOKEN_EXPIRED_SESSION', identity: 'user:68946' });
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000);
    expect(longLived.connected).toBe(true);
    await closeAll(client, longLived);
  });
});
