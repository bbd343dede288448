// JWKS over time, against a stand-in identity provider the test starts (a real HTTP server): key
// rotation, a key removed from the set, the IdP down (stale keys served within their bound, new keys
// refused as 'JWKS unreachable') and back (picked up after the backoff), over real TLS/WSS clients.
import { afterEach, describe, expect, it } from 'vitest';
import { auditOf, startTestBroker, type TestBroker } from '../support/broker.ts';
import { closeAll, connectClient, refusalCode, type Transport } from '../support/clients.ts';
import { startStandInIdp, type StandInIdp } from '../support/stand-in-idp.ts';

let idp: StandInIdp | undefined;
let broker: TestBroker | undefined;
afterEach(async () => {
  await broker?.close();
  await idp?.close();
  broker = undefined;
  idp = undefined;
});

async function start(settings: Record<string, string>): Promise<{ idp: StandInIdp; broker: TestBroker }> {
  idp = await startStandInIdp();
  broker = await startTestBroker({
    JWT_SECRET: '',
    JWKS_URL: idp.jwksUrl,
    JWT_ALGORITHMS: 'RS256,ES256',
    ...settings,
  });
  return { idp, broker };
}

let serial = 0;
/** One CONNECT with `token`: 0 when accepted (and closed again), else the CONNACK return code. */
async function connectCode(
  target: TestBroker,
  token: string,
  transport: Transport = 'mqtts',
): Promise<number> {
  const clientId = `68946/c${serial++}`;
  const client = connectClient(target, transport, clientId, token);
  const code = await new Promise<number>((resolve) => {
    client.once('connect', () => resolve(0));
    void refusalCode(client).then(resolve, () => undefined);
  });
  await closeAll(client);
  return code;
}

/** Connects every `everyMs` until `expected` comes back; fails past `timeoutMs`. For waits on a clock. */
async function untilCode(
  target: TestBroker,
  token: () => string,
  expected: number,
  timeoutMs: number,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    const code = await connectCode(target, token());
    if (code === expected) return Date.now() - started;
    if (Date.now() - started > timeoutMs)
      throw new Error(`CONNACK ${code} after ${timeoutMs} ms, waited for ${expected}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('a broker on a stand-in IdP', () => {
  it('follows a rotation to an ES256 key and drops the retired RS256 key at the next refetch', async () => {
    const { idp, broker } = await start({ JWKS_COOLDOWN_MS: '0' });
    expect(idp.fetches).toBe(1); // at start
    const k1 = idp.sign({ sub: '68946' }, { kid: 'k1' });
    expect(await connectCode(broker, k1)).toBe(0);
    idp.addKey('k2', 'ES256');
    expect(await connectCode(broker, idp.sign({ sub: '68946' }, { kid: 'k2' }), 'wss')).toBe(0);
    expect(idp.fetches).toBe(2);
    expect(await connectCode(broker, k1)).toBe(0); // both published
    idp.rotate('k3');
    expect(await connectCode(broker, idp.sign({ sub: '68946' }, { kid: 'k3' }))).toBe(0);
    const clientId = '68946/retired';
    expect(await refusalCode(connectClient(broker, 'wss', clientId, k1))).toBe(5);
    expect(await broker.waitForLog(auditOf(clientId))).toMatchObject({
      code: 'ERR_JWKS_NO_MATCHING_KEY',
      reason: expect.stringContaining('k1'),
    });
  });

  it('stops trusting a key removed from the set within JWKS_MAX_AGE_MS, with no unknown kid to cause a refetch', async () => {
    const { idp, broker } = await start({ JWKS_COOLDOWN_MS: '0', JWKS_MAX_AGE_MS: '1000' });
    idp.addKey('k2');
    const k1 = () => idp.sign({ sub: '68946' }, { kid: 'k1' });
    expect(await connectCode(broker, k1())).toBe(0);
    const fetches = idp.fetches;
    idp.removeKey('k1'); // e.g. a leaked key retired by the operator
    const waited = await untilCode(broker, k1, 5, 5000);
    expect(waited).toBeLessThan(5000);
    expect(idp.fetches).toBeGreaterThan(fetches); // learned from the IdP, not guessed
    expect(await connectCode(broker, idp.sign({ sub: '68946' }, { kid: 'k2' }))).toBe(0);
  });

  it.each(['refuse', '503'] as const)(
    'IdP down (%s): cached keys keep serving, a new kid is refused as JWKS unreachable; back: picked up after the backoff',
    async (outage) => {
      const { idp, broker } = await start({ JWKS_COOLDOWN_MS: '0', JWKS_RETRY_MS: '200' });
      const k1 = idp.sign({ sub: '68946' }, { kid: 'k1' });
      expect(await connectCode(broker, k1)).toBe(0);
      await idp.goDown(outage);
      idp.addKey('k2');
      const k2 = idp.sign({ sub: '68946' }, { kid: 'k2' });
      const clientId = `68946/down-${outage}`;
      expect(await refusalCode(connectClient(broker, 'mqtts', clientId, k2))).toBe(3);
      expect(await broker.waitForLog(auditOf(clientId))).toMatchObject({
        code: 'ERR_JWKS_UNAVAILABLE',
        returnCode: 3,
        reason: expect.stringContaining('JWKS unreachable'),
      });
      // asked again within the backoff: the refusal still names the real cause, not an unknown kid
      const again = `68946/again-${outage}`;
      expect(await refusalCode(connectClient(broker, 'wss', again, k2))).toBe(3);
      expect(await broker.waitForLog(auditOf(again))).toMatchObject({ code: 'ERR_JWKS_UNAVAILABLE' });
      expect(await connectCode(broker, k1, 'wss')).toBe(0);
      await idp.comeBack();
      await untilCode(broker, () => k2, 0, 5000);
      expect(await connectCode(broker, k1)).toBe(0);
    },
  );

  it('serves the last good keys for JWKS_STALE_MS past their max age while the IdP is down, then refuses', async () => {
    const startedAt = Date.now(); // the keys are fetched after this: at start
    const { idp, broker } = await start({
      JWKS_COOLDOWN_MS: '0',
      JWKS_MAX_AGE_MS: '1000',
      JWKS_STALE_MS: '1500',
      JWKS_RETRY_MS: '100',
    });
    const k1 = () => idp.sign({ sub: '68946' }, { kid: 'k1' });
    expect(await connectCode(broker, k1())).toBe(0);
    await idp.goDown('refuse');
    await untilCode(broker, k1, 3, 8000);
    // not at the max age (1 s): the stale key served until max age + JWKS_STALE_MS after its fetch
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(2500);
    const clientId = '68946/too-stale';
    expect(await refusalCode(connectClient(broker, 'mqtts', clientId, k1()))).toBe(3);
    expect(await broker.waitForLog(auditOf(clientId))).toMatchObject({
      code: 'ERR_JWKS_UNAVAILABLE',
      reason: expect.stringContaining('JWKS unreachable'),
    });
  });
});
