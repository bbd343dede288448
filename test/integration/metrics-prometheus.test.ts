// A real Prometheus (Debian's `prometheus`) scrapes the admin listener, with its bearer token, every
// second; after real traffic its HTTP API has Cashew's series: connections by role and transport,
// refusals by reason, messages, the handler command latency. `promtool check metrics` passes on a scrape.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import { closeAll, connectClient, connected, recordMessages, refusalCode } from '../support/clients.ts';
import { handlerToken, userToken } from '../support/tokens.ts';
import { adminCall, errorCodeOf, eventually } from '../support/admin.ts';
import { startPrometheus, type TestPrometheus } from '../support/prometheus.ts';
import { PROMETHEUS, PROMTOOL, toolsAvailable } from '../support/system-tools.ts';

const ADMIN_TOKEN = 'admin-token-for-the-metrics-test-0123456789';
const COMMANDS = 5;
const available = toolsAvailable(PROMETHEUS, PROMTOOL);

describe.skipIf(!available)('metrics scraped by a real Prometheus', () => {
  let broker: TestBroker;
  let prometheus: TestPrometheus | undefined;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    broker = await startTestBroker({ ADMIN_TOKEN, NODE_ID: 'metrics-node' });
    prometheus = await startPrometheus({
      host: `127.0.0.1:${broker.admin.port ?? 0}`,
      bearerToken: ADMIN_TOKEN,
    });
  });

  afterAll(async () => {
    await closeAll(...clients.splice(0));
    await prometheus?.stop();
    await broker.close();
  });

  async function valueOf(promql: string): Promise<number> {
    const result = (await prometheus?.query(promql)) ?? [];
    return result.reduce((sum, sample) => sum + Number(sample.value[1]), 0);
  }

  it('refuses admin requests without the bearer token', async () => {
    const none = await adminCall(broker.adminUrl, '/metrics');
    expect(none.status).toBe(401);
    expect(errorCodeOf(none)).toBe('ERR_ADMIN_UNAUTHORIZED');
    const wrong = await adminCall(broker.adminUrl, '/api/clients', { token: `${ADMIN_TOKEN}x` });
    expect(wrong.status).toBe(401);
    expect((await adminCall(broker.adminUrl, '/api/clients', { token: ADMIN_TOKEN })).status).toBe(200);
  });

  it('has connections, refusals, messages and handler latency after traffic', async () => {
    const handler = await connected(
      connectClient(broker, 'mqtts', '$handler/ping', handlerToken('ping', ['ping'], ['pong'])),
    );
    clients.push(handler);
    await handler.subscribeAsync('+/ping', { qos: 1 });
    handler.on('message', (topic, payload) => {
      void handler.publishAsync(`${topic.split('/')[0] ?? ''}/pong`, payload, { qos: 1 });
    });
    const devices = await Promise.all([
      connected(connectClient(broker, 'mqtts', '6001/phone', userToken('6001'))),
      connected(connectClient(broker, 'wss', '6002/web', userToken('6002'))),
    ]);
    clients.push(...devices);
    for (const [index, device] of devices.entries()) {
      const userId = index === 0 ? '6001' : '6002';
      const pongs = recordMessages(device);
      await device.subscribeAsync(`${userId}/pong`, { qos: 1 });
      for (let i = 0; i < COMMANDS; i += 1) await device.publishAsync(`${userId}/ping`, `${i}`, { qos: 1 });
      await eventually(() => pongs.messages.length === COMMANDS, 5000);
    }
    const forged = connectClient(
      broker,
      'mqtts',
      '6003/phone',
      userToken('6003').replace(/\.[^.]+$/, '.AAAA'),
    );
    clients.push(forged);
    expect(await refusalCode(forged)).toBe(5);
    // Outside its partition: acknowledged and dropped.
    await devices[0]?.publishAsync('6002/ping', 'x', { qos: 1 });

    await eventually(async () => {
      const checks = await Promise.all([
        valueOf('cashew_connections{role="user",transport="mqtts"}'),
        valueOf('cashew_connections{role="user",transport="wss"}'),
        valueOf('cashew_connections{role="handler"}'),
        valueOf('cashew_refusals_total{action="connect",code="ERR_TOKEN_SIGNATURE"}'),
        valueOf('cashew_messages_dropped_total{reason="not_authorized"}'),
        valueOf('cashew_messages_received_total'),
        valueOf('cashew_messages_sent_total'),
        valueOf('cashew_handler_command_duration_seconds_count{handler="ping"}'),
      ]);
      const [mqtts, wss, handlers, refused, dropped, received, sent, latencies] = checks;
      return (
        mqtts === 1 &&
        wss === 1 &&
        handlers === 1 &&
        refused === 1 &&
        dropped === 1 &&
        (received ?? 0) >= 4 * COMMANDS + 1 &&
        (sent ?? 0) >= 4 * COMMANDS &&
        latencies === 2 * COMMANDS
      );
    }, 15_000);
    const node = await prometheus?.query('cashew_connects_total');
    expect(node?.[0]?.metric.node).toBe('metrics-node');
    expect(await valueOf('cashew_handler_command_duration_seconds_sum{handler="ping"}')).toBeGreaterThan(0);
  });

  it('serves a scrape that promtool check metrics accepts', async () => {
    const scrape = await adminCall(broker.adminUrl, '/metrics', { token: ADMIN_TOKEN });
    expect(scrape.contentType).toContain('text/plain');
    expect(scrape.text).toContain('nodejs_eventloop_lag_seconds');
    const check = spawnSync('promtool', ['check', 'metrics'], { input: scrape.text, timeout: 10_000 });
    expect(`${check.stdout.toString()}${check.stderr.toString()}`).toBe('');
    expect(check.status).toBe(0);
  });

  it('accepts the alert rules of docs/operations.md (promtool check rules)', () => {
    const doc = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
    const rules = /```yaml\n(groups:[\s\S]*?)```/.exec(doc)?.[1];
    expect(rules).toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), 'cashew-rules-'));
    try {
      writeFileSync(join(dir, 'rules.yml'), rules ?? '');
      const check = spawnSync('promtool', ['check', 'rules', join(dir, 'rules.yml')], { timeout: 10_000 });
      expect(check.stdout.toString()).toContain('SUCCESS');
      expect(check.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
