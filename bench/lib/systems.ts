// The three systems under test, each started as its own process pinned to the broker core:
// Cashew (startBroker), raw Aedes (same aedes, no hooks) and Mosquitto (Debian's mosquitto).
import { existsSync, mkdtempSync, openSync, writeFileSync, closeSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { supervise } from '../../cli/supervisor.ts';
import { ensureBuilt } from './built-cashew.ts';
import { HOST, brokerNodeArgs, freePort, startSlowdown, underPrefix, waitForPort } from './launch.ts';
import { cpuMicros, pinProcess, rssBytes } from './proc.ts';

export const SYSTEMS = ['cashew', 'aedes', 'mosquitto'] as const;
export type SystemName = (typeof SYSTEMS)[number];

export const SYSTEM_LABELS: Record<SystemName, string> = {
  cashew: 'Cashew',
  aedes: 'raw Aedes',
  mosquitto: 'Mosquitto',
};

export const MOSQUITTO_BINARY = process.env.MOSQUITTO ?? '/usr/sbin/mosquitto';

export interface BrokerProcess {
  readonly system: SystemName;
  readonly pid: number;
  /** Plain TCP MQTT port. */
  readonly port: number;
  /** MQTT over TLS port. */
  readonly tlsPort: number;
  /** MQTT over secure WebSocket port (path /mqtt, subprotocol mqtt). */
  readonly wssPort: number;
  /** Every port the broker reported (Cashew: mqtt, mqtts, wss, ws), by listener name. */
  readonly ports: Readonly<Record<string, number>>;
  /** Process CPU time so far, µs. */
  cpu(): number;
  /** Forces a full GC (Node brokers; a no-op for Mosquitto) and returns the RSS in bytes. */
  settledRss(): Promise<number>;
  stop(): Promise<void>;
}

export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
}

export { addBrokerNodeArgs, freePort, HOST, runBrokersUnder } from './launch.ts';

const SERVERS_DIR = fileURLToPath(new URL('../servers/', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'cashew-bench-'));

export function scratchDir(): string {
  return scratch;
}

function logFile(name: string): number {
  return openSync(join(scratch, `${name}-${process.pid}-${Date.now()}.log`), 'a');
}

/** A Node broker has this long to report ready (tsx compiles it first, on a pinned core). */
const READY_TIMEOUT_MS = 60_000;
/** Then this long to stop after it was asked to, before SIGKILL. */
const STOP_TIMEOUT_MS = 5_000;

async function startNodeBroker(
  system: SystemName,
  script: string,
  env: Record<string, string>,
  cpus: string | undefined,
): Promise<BrokerProcess> {
  const log = logFile(system);
  const broker = supervise({
    name: system,
    ...underPrefix(process.execPath, [
      '--import',
      'tsx',
      '--expose-gc',
      '--max-old-space-size=8192',
      ...brokerNodeArgs(),
      join(SERVERS_DIR, script),
    ]),
    env: { ...process.env, ...env },
    output: log,
    ipc: true,
  });
  closeSync(log);
  const { child } = broker;
  const pid = broker.pid;
  if (cpus !== undefined) pinProcess(pid, cpus);
  const ready = await broker.waitFor<{ ports: Record<string, number> }>(
    'ready message',
    (deliver) => {
      const onMessage = (message: { type: string; ports?: Record<string, number> }): void => {
        if (message.type === 'ready') deliver({ ports: message.ports ?? {} });
      };
      child.on('message', onMessage);
      return () => child.off('message', onMessage);
    },
    READY_TIMEOUT_MS * startSlowdown(),
  );
  // Threads started after the first pin (libuv pool, TLS) are pinned too.
  if (cpus !== undefined) pinProcess(pid, cpus);
  return {
    system,
    pid,
    port: ready.ports.mqtt ?? 0,
    tlsPort: ready.ports.mqtts ?? 0,
    wssPort: ready.ports.wss ?? 0,
    ports: ready.ports,
    cpu: () => cpuMicros(pid),
    settledRss: async () => {
      const done = new Promise<void>((resolve) =>
        child.on('message', (message: { type: string }) => {
          if (message.type === 'gc-done') resolve();
        }),
      );
      child.send({ type: 'gc' });
      await done;
      return rssBytes(pid);
    },
    stop: async () => {
      await broker.stop({
        request: () => (child.connected ? child.send({ type: 'stop' }) : child.kill('SIGTERM')),
        timeoutMs: STOP_TIMEOUT_MS * startSlowdown(),
      });
    },
  };
}

/**
 * Cashew with the given settings (JWT_* etc.); plain MQTT_PORT and MQTTS on ephemeral ports. `root`:
 * another checkout of Cashew to run instead of this one (bench/compare.ts, before/after a change).
 */
export async function startCashew(
  settings: Record<string, string>,
  tls: TlsFiles,
  cpus: string | undefined,
  root?: string,
): Promise<BrokerProcess> {
  const full = {
    HOST,
    MQTTS_PORT: '0',
    WSS_PORT: '0',
    MQTT_PORT: '0',
    TLS_CERT: tls.cert,
    TLS_KEY: tls.key,
    CERTS_DIR: join(scratch, 'cashew-certs'),
    LOG_LEVEL: 'warn',
    // Every generator connects from 127.0.0.1: a storm of thousands of CONNECTs per second from one
    // address is what CONNECT_RATE_PER_ADDRESS refuses. The bench stands for a fleet of addresses.
    CONNECT_RATE_PER_ADDRESS: '1000000',
    CONNECT_BURST_PER_ADDRESS: '1000000',
    // One generator connection publishes as fast as the broker takes it (tens of thousands per second).
    PUBLISH_RATE: '10000000',
    PUBLISH_BURST: '10000000',
    HANDLER_PUBLISH_RATE: '10000000',
    HANDLER_PUBLISH_BURST: '10000000',
    ...settings,
  };
  const checkout = root ?? fileURLToPath(new URL('../../', import.meta.url));
  await ensureBuilt(checkout, (message) => process.stderr.write(`${message}\n`));
  return startNodeBroker(
    'cashew',
    'cashew.ts',
    { CASHEW_BENCH_SETTINGS: JSON.stringify(full), ...(root !== undefined && { CASHEW_BENCH_ROOT: root }) },
    cpus,
  );
}

/** Profiling aid: raw Aedes with Cashew's adapter hooks only (bench/servers/aedes-hooks.ts). */
export function startAedesWithHooks(
  settings: Record<string, string>,
  tls: TlsFiles,
  cpus: string | undefined,
  env: Record<string, string> = {},
): Promise<BrokerProcess> {
  const full = {
    MQTTS_PORT: '0',
    WSS_PORT: '0',
    TLS_CERT: tls.cert,
    TLS_KEY: tls.key,
    LOG_LEVEL: 'warn',
    ...settings,
  };
  return startNodeBroker(
    'aedes',
    'aedes-hooks.ts',
    { ...env, CASHEW_BENCH_SETTINGS: JSON.stringify(full) },
    cpus,
  );
}

export function startRawAedes(tls: TlsFiles, cpus: string | undefined): Promise<BrokerProcess> {
  return startNodeBroker('aedes', 'raw-aedes.ts', { BENCH_TLS_CERT: tls.cert, BENCH_TLS_KEY: tls.key }, cpus);
}

/** The floor of a Node broker's CONNECT (bench/servers/node-floor.ts), reported as raw Aedes' system. */
export function startNodeFloor(tls: TlsFiles, cpus: string | undefined): Promise<BrokerProcess> {
  return startNodeBroker(
    'aedes',
    'node-floor.ts',
    { BENCH_TLS_CERT: tls.cert, BENCH_TLS_KEY: tls.key },
    cpus,
  );
}

export function mosquittoAvailable(): boolean {
  return existsSync(MOSQUITTO_BINARY);
}

/** The configuration of one Mosquitto: MQTT, MQTTS and WSS (path-agnostic websockets) on loopback. */
function mosquittoConfig(ports: { mqtt: number; mqtts: number; wss: number }, tls: TlsFiles): string {
  return [
    // Started as root, mosquitto would switch to user "mosquitto", which cannot read our key files.
    `user ${userInfo().username}`,
    'per_listener_settings false',
    'allow_anonymous true',
    'persistence false',
    // Errors only (a listener that cannot start), to its log file; nothing per connection.
    'log_dest stderr',
    'log_type error',
    'max_queued_messages 100000',
    // Like Cashew's listeners (and the raw Aedes baseline): no Nagle delay on small packets.
    'set_tcp_nodelay true',
    `listener ${ports.mqtt} ${HOST}`,
    `listener ${ports.mqtts} ${HOST}`,
    `certfile ${tls.cert}`,
    `keyfile ${tls.key}`,
    // Debian's 2.0.11 serves websockets with its built-in libwebsockets (it refuses a configuration
    // whose only listeners are websockets ones; this one has others).
    `listener ${ports.wss} ${HOST}`,
    'protocol websockets',
    `certfile ${tls.cert}`,
    `keyfile ${tls.key}`,
    '',
  ].join('\n');
}

/** Tries at starting Mosquitto: a port found free may be taken (the machine is shared) before it binds. */
const MOSQUITTO_ATTEMPTS = 2;

/** Mosquitto with anonymous access (it performs no JWT check), no persistence, errors-only logs. */
export async function startMosquitto(tls: TlsFiles, cpus: string | undefined): Promise<BrokerProcess> {
  for (let attempt = 1; ; attempt++) {
    const ports = { mqtt: await freePort(), mqtts: await freePort(), wss: await freePort() };
    const config = join(scratch, `mosquitto-${ports.mqtt}.conf`);
    writeFileSync(config, mosquittoConfig(ports, tls));
    const logPath = join(scratch, `mosquitto-${process.pid}-${Date.now()}.log`);
    const log = openSync(logPath, 'a');
    const mosquitto = supervise({ ...underPrefix(MOSQUITTO_BINARY, ['-c', config]), output: log });
    closeSync(log);
    const pid = mosquitto.pid;
    if (cpus !== undefined) pinProcess(pid, cpus);
    try {
      await Promise.race([
        Promise.all(Object.values(ports).map((port) => waitForPort(port, 10_000 * startSlowdown()))),
        mosquitto.exited.then((status) => Promise.reject(new Error(`mosquitto exited (${String(status)})`))),
      ]);
    } catch (error) {
      await mosquitto.stop({ timeoutMs: STOP_TIMEOUT_MS * startSlowdown() });
      if (attempt < MOSQUITTO_ATTEMPTS) continue;
      throw new Error(`mosquitto did not listen on ${Object.values(ports).join(', ')} (log: ${logPath})`, {
        cause: error,
      });
    }
    return {
      system: 'mosquitto',
      pid,
      port: ports.mqtt,
      tlsPort: ports.mqtts,
      wssPort: ports.wss,
      ports,
      cpu: () => cpuMicros(pid),
      settledRss: () => Promise.resolve(rssBytes(pid)),
      stop: async () => {
        await mosquitto.stop({ timeoutMs: STOP_TIMEOUT_MS });
      },
    };
  }
}

/**
 * How to start each broker named in `systems` (`cashew`, `aedes`, `mosquitto`), unpinned, in that
 * order, plus `before` (another checkout's Cashew, `--before`) right after Cashew when given.
 */
export function brokerStarters(
  systems: readonly string[],
  cashewSettings: Record<string, string>,
  tls: TlsFiles,
  before?: string,
): Map<string, () => Promise<BrokerProcess>> {
  const starters = new Map<string, () => Promise<BrokerProcess>>();
  if (systems.includes('cashew')) starters.set('cashew', () => startCashew(cashewSettings, tls, undefined));
  if (before !== undefined) starters.set('before', () => startCashew(cashewSettings, tls, undefined, before));
  if (systems.includes('aedes')) starters.set('aedes', () => startRawAedes(tls, undefined));
  if (systems.includes('mosquitto')) starters.set('mosquitto', () => startMosquitto(tls, undefined));
  return starters;
}
