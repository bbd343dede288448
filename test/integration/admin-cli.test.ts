// `cashew admin` as a real child process against a running broker's admin listener (with its bearer
// token from ADMIN_TOKEN, the port from ADMIN_PORT): tables, --json, every action, clear failures.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import { closeAll, closed, connectClient, connected, refusalCode } from '../support/clients.ts';
import { cleanEnv, runCli } from '../support/cli.ts';
import { userToken } from '../support/tokens.ts';

const ADMIN_TOKEN = 'admin-token-for-the-cli-test-0123456789abc';

let broker: TestBroker;
const clients: MqttClient[] = [];

beforeAll(async () => {
  broker = await startTestBroker({ ADMIN_TOKEN });
});
afterAll(async () => {
  await closeAll(...clients.splice(0));
  await broker.close();
});

function admin(args: string[], token = ADMIN_TOKEN) {
  return runCli(['admin', ...args], cleanEnv({ ADMIN_PORT: String(broker.admin.port), ADMIN_TOKEN: token }));
}

async function device(clientId: string): Promise<MqttClient> {
  const client = connectClient(broker, 'mqtts', clientId, userToken(clientId.split('/')[0] ?? ''));
  clients.push(client);
  return connected(client);
}

describe('cashew admin', () => {
  it('lists clients as a table and as JSON, and shows a user', async () => {
    const phone = await device('8001/phone');
    await phone.subscribeAsync('8001/news', { qos: 1 });
    const listed = await admin(['clients', '--user', '8001']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/CLIENT ID\s+ROLE/);
    expect(listed.stdout).toMatch(/8001\/phone\s+user\s+8001\s+mqtts/);
    const asJson = await admin(['clients', '--json']);
    const body = JSON.parse(asJson.stdout) as { clients: { clientId: string; subscriptions: string[] }[] };
    expect(body.clients.find((c) => c.clientId === '8001/phone')?.subscriptions).toEqual(['8001/news']);
    const sessions = await admin(['sessions', '--user', '8001']);
    expect(sessions.code).toBe(0);
    expect(sessions.stdout).toContain('(none)');
    const shown = await admin(['show', '8001']);
    expect(shown.stdout).toContain('user 8001');
    expect(shown.stdout).toContain('subscriptions: 8001/news');
  });

  it('kicks, bans, lists bans, unbans and revokes', async () => {
    const phone = await device('8101/phone');
    const closing = closed(phone, 5000);
    expect((await admin(['kick', '--client-id', '8101/phone'])).code).toBe(0);
    await closing;
    const banned = await admin(['ban', 'user', '8102', '--ttl', '600', '--reason', 'abuse']);
    expect(banned.code).toBe(0);
    expect(banned.stdout).toMatch(/user\s+8102/);
    const refused = connectClient(broker, 'wss', '8102/web', userToken('8102'));
    clients.push(refused);
    expect(await refusalCode(refused)).toBe(5);
    expect((await admin(['bans'])).stdout).toMatch(/user\s+8102\s+\S+\s+abuse/);
    expect((await admin(['unban', 'user', '8102'])).code).toBe(0);
    expect((await admin(['bans', '--json'])).stdout).toContain('"bans": []');
    const revoked = await admin(['revoke', '8103', '--ttl', '60']);
    expect(revoked.stdout).toContain('revoked every token of 8103');
    await admin(['unban', 'client-id', 'none']).then((result) => expect(result.code).toBe(1));
  });

  it('fails clearly: usage errors exit 2, refusals exit 1 with the code', async () => {
    const usage = await admin(['ban', 'planet', 'x']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('a ban kind is one of');
    const unauthorized = await admin(['bans'], 'wrong-token-wrong-token-wrong-token-00');
    expect(unauthorized.code).toBe(1);
    expect(unauthorized.stderr).toContain('ERR_ADMIN_UNAUTHORIZED');
    const help = await runCli(['admin', '--help'], cleanEnv({}));
    expect(help.stdout).toContain('cashew admin <action>');
  });
});
