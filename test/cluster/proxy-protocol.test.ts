// PROXY protocol behind a TCP load balancer: the header of a trusted proxy gives the real client
// address to logs (and anything keyed by address); a peer not on the allowlist is never believed.
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveOptions } from '../../broker/index.ts';
import {
  isAddressOrSubnet,
  isTrusted,
  parseProxyHeader,
  trustListOf,
} from '../../broker/net/proxy-protocol.ts';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import { connected } from '../support/clients.ts';
import { userToken } from '../support/tokens.ts';
import { proxyHeader, startLoadBalancer, type LoadBalancer } from './support/load-balancer.ts';

const CLIENT = { address: '203.0.113.7', port: 40_001 };
const SERVER = { address: '198.51.100.1', port: 8883 };

describe('parseProxyHeader', () => {
  it('reads v1 TCP4, TCP6 and UNKNOWN headers', () => {
    const v1 = Buffer.concat([proxyHeader('v1', CLIENT, SERVER), Buffer.from('rest')]);
    expect(parseProxyHeader(v1)).toEqual({ kind: 'header', length: v1.length - 4, source: CLIENT });
    const v6 = Buffer.from('PROXY TCP6 2001:db8::1 2001:db8::2 5000 443\r\n');
    expect(parseProxyHeader(v6)).toMatchObject({ source: { address: '2001:db8::1', port: 5000 } });
    expect(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n'))).toEqual({ kind: 'header', length: 15 });
  });

  it('reads v2 PROXY and LOCAL headers', () => {
    const v2 = proxyHeader('v2', CLIENT, SERVER);
    expect(parseProxyHeader(v2)).toEqual({ kind: 'header', length: 28, source: CLIENT });
    const local = Buffer.from(v2);
    local[12] = 0x20;
    expect(parseProxyHeader(local)).toEqual({ kind: 'header', length: 28 });
  });

  it('waits for the rest of a header split across reads', () => {
    const v1 = proxyHeader('v1', CLIENT, SERVER);
    expect(parseProxyHeader(v1.subarray(0, 3))).toEqual({ kind: 'incomplete' });
    expect(parseProxyHeader(v1.subarray(0, 20))).toEqual({ kind: 'incomplete' });
    expect(parseProxyHeader(proxyHeader('v2', CLIENT, SERVER).subarray(0, 20))).toEqual({
      kind: 'incomplete',
    });
  });

  it('refuses malformed headers and data that is no header', () => {
    for (const text of [
      'PROXY TCP4 999.1.1.1 1.1.1.1 1 2\r\n',
      'PROXY TCP4 1.1.1.1 1.1.1.1 70000 2\r\n',
      'PROXY TCP6 1.1.1.1 1.1.1.1 1 2\r\n',
      'PROXY TCP4 1.1.1.1 1.1.1.1 1 2 extra\r\n',
      `PROXY ${'x'.repeat(120)}`,
      '\u0016\u0003\u0001 a TLS ClientHello',
    ]) {
      expect(parseProxyHeader(Buffer.from(text, 'latin1')).kind).toBe('invalid');
    }
  });
});

describe('the trusted proxy allowlist', () => {
  it('matches addresses and CIDRs, IPv4-mapped IPv6 included', () => {
    const list = trustListOf(['127.0.0.1', '10.0.0.0/8', 'fd00::/8']);
    expect(isTrusted(list, '127.0.0.1')).toBe(true);
    expect(isTrusted(list, '::ffff:127.0.0.1')).toBe(true);
    expect(isTrusted(list, '10.20.30.40')).toBe(true);
    expect(isTrusted(list, 'fd12::1')).toBe(true);
    expect(isTrusted(list, '127.0.0.2')).toBe(false);
    expect(isTrusted(list, '11.0.0.1')).toBe(false);
    expect(isTrusted(list, undefined)).toBe(false);
  });

  it('is validated with the settings: PROXY_PROTOCOL needs TRUSTED_PROXIES, entries must be addresses', () => {
    expect(isAddressOrSubnet('10.0.0.0/33')).toBe(false);
    expect(isAddressOrSubnet('example.com')).toBe(false);
    expect(() => resolveOptions({ PROXY_PROTOCOL: 'true' })).toThrow(/TRUSTED_PROXIES/);
    expect(() => resolveOptions({ PROXY_PROTOCOL: 'true', TRUSTED_PROXIES: '10.0.0.0/40' })).toThrow(
      /TRUSTED_PROXIES/,
    );
    expect(
      resolveOptions({ PROXY_PROTOCOL: 'true', TRUSTED_PROXIES: '127.0.0.1, 10.0.0.0/8' }),
    ).toMatchObject({
      proxyProtocol: true,
      trustedProxies: ['127.0.0.1', '10.0.0.0/8'],
    });
  });
});

describe('listeners behind a load balancer speaking PROXY protocol', () => {
  let trusting: TestBroker;
  let distrusting: TestBroker;
  const balancers: LoadBalancer[] = [];
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    trusting = await startTestBroker({ PROXY_PROTOCOL: 'true', TRUSTED_PROXIES: '127.0.0.1' });
    distrusting = await startTestBroker({ PROXY_PROTOCOL: 'true', TRUSTED_PROXIES: '10.0.0.0/8' });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.endAsync(true).catch(() => undefined)));
  });
  afterAll(async () => {
    await Promise.all(balancers.map((balancer) => balancer.close()));
    await Promise.all([trusting?.close(), distrusting?.close()]);
  });

  async function through(
    broker: TestBroker,
    listener: 'mqtts' | 'wss',
    proxy: 'v1' | 'v2',
    clientId: string,
    token: string,
  ): Promise<MqttClient> {
    const port = listener === 'mqtts' ? broker.ports.mqtts : broker.ports.wss;
    if (port === undefined) throw new Error('no port');
    const balancer = await startLoadBalancer([port], { proxy, clientAddress: CLIENT.address });
    balancers.push(balancer);
    const url =
      listener === 'mqtts' ? `mqtts://localhost:${balancer.port}` : `wss://localhost:${balancer.port}/mqtt`;
    const client = mqtt.connect(url, {
      clientId,
      username: 'JWT',
      password: token,
      ca: broker.ca,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    clients.push(client);
    return client;
  }

  it.each([
    ['mqtts', 'v1'],
    ['wss', 'v2'],
  ] as const)(
    'logs the real client address on %s (PROXY %s from a trusted proxy)',
    async (listener, proxy) => {
      const clientId = `pat-${listener}/phone`;
      const refused = await through(trusting, listener, proxy, clientId, userToken('someone-else'));
      await expect(connected(refused)).rejects.toMatchObject({ code: 2 });
      const line = await trusting.waitForLog(
        (entry) => entry.action === 'connect' && entry.clientId === clientId,
      );
      expect(line.address).toBe(CLIENT.address);

      const accepted = await connected(
        await through(trusting, listener, proxy, `pat/${listener}`, userToken('pat')),
      );
      expect(accepted.connected).toBe(true);
    },
  );

  it('never believes a PROXY header from a peer not on the list, and still serves its direct clients', async () => {
    const spoofed = await through(distrusting, 'mqtts', 'v1', 'quinn/phone', userToken('quinn'));
    await expect(connected(spoofed, 5000)).rejects.toBeDefined();
    const line = await distrusting.waitForLog((entry) => entry.action === 'proxy');
    expect(line).toMatchObject({
      audit: 'refused',
      address: '127.0.0.1',
      reason: 'PROXY header from an untrusted peer',
    });

    const direct = mqtt.connect(distrusting.mqttsUrl, {
      clientId: 'quinn-direct/phone',
      username: 'JWT',
      password: userToken('quinn'),
      ca: distrusting.ca,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    clients.push(direct);
    await expect(connected(direct)).rejects.toMatchObject({ code: 2 });
    const refusal = await distrusting.waitForLog(
      (entry) => entry.action === 'connect' && entry.clientId === 'quinn-direct/phone',
    );
    expect(refusal.address).toBe('127.0.0.1');
  });
});
