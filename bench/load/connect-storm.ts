// Scenario 1 load: open a connection (TCP, or TLS or WSS with a full or a resumed handshake), CONNECT
// with a token, wait for CONNACK, DISCONNECT; `concurrency` connections in flight. Raw packets
// (mqtt-wire.ts; over WSS in WebSocket frames, mqtt-websocket.ts): no mqtt.js client state, so a
// connect costs the generator little beside the kernel, TLS and (WSS) the HTTP upgrade.
//
// Two modes. Driven (the bench): several of these workers share the clients; the parent sends a
// `round` (one target, one slice of clients) to all of them at once, reads broker CPU around it, and
// each worker answers `round-done` with its own CPU for the round, so that generator CPU is known
// beside every broker's rate. Free-running (bench/profile.ts): the worker runs every chunk itself.
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { connectMqtt, type Endpoint } from '../lib/mqtt-wire.ts';
import { percentile } from '../lib/stats.ts';
import { runWorker, withConcurrency, sleep, type WorkerMessage } from '../lib/workers.ts';

export interface ConnectStormTarget {
  readonly name: string;
  readonly endpoint: Endpoint;
  /** TLS and WSS: offer the session of this worker's previous connection to the target (resumption). */
  readonly resume?: boolean;
}

export interface ConnectStormParams {
  readonly targets: readonly ConnectStormTarget[];
  readonly clients: readonly { readonly clientId: string; readonly token: string }[];
  readonly concurrency: number;
  /** Free-running mode: connects per turn of each target. */
  readonly chunk: number;
  /** Connects per target before the measurement (JIT warm-up, TLS session), not counted. */
  readonly warmup: number;
  /** Who connects in the warm-up; default: the first `warmup` of `clients` (their tokens are then seen twice). */
  readonly warmupClients?: ConnectStormParams['clients'];
  readonly localAddresses: readonly string[];
  /** Wait for the parent's `round` messages instead of running every chunk. */
  readonly driven?: boolean;
}

export interface ConnectStormResult {
  readonly attempts: number;
  readonly accepted: number;
  readonly refused: number;
  readonly failed: number;
  /** TLS handshakes that resumed a session. */
  readonly resumed: number;
  readonly elapsedMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Parent → worker: run clients [from, to) of this worker's slice against one target. */
export interface RoundMessage extends WorkerMessage {
  readonly type: 'round';
  readonly target: string;
  readonly from: number;
  readonly to: number;
}

/** Worker → parent: the round is over; this worker's CPU (user + system) during it. */
export interface RoundDoneMessage extends WorkerMessage {
  readonly type: 'round-done';
  readonly cpuMicros: number;
  readonly attempts: number;
}

interface Tally {
  attempts: number;
  accepted: number;
  refused: number;
  failed: number;
  resumed: number;
  elapsedMs: number;
  readonly latencies: number[];
}

function emptyTally(): Tally {
  return { attempts: 0, accepted: 0, refused: 0, failed: 0, resumed: 0, elapsedMs: 0, latencies: [] };
}

function cpuNow(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

runWorker<ConnectStormParams, Record<string, ConnectStormResult>>(async (params, channel) => {
  const { targets, clients, concurrency, localAddresses } = params;
  const tallies = new Map<string, Tally>(targets.map((target) => [target.name, emptyTally()]));
  /** The TLS session last received from each target (what a device that keeps it would offer). */
  const sessions = new Map<string, Buffer>();

  function keepSession(target: ConnectStormTarget, socket: Socket): void {
    if (target.resume !== true) return;
    socket.on('session', (session: Buffer) => sessions.set(target.name, session));
  }

  async function storm(
    from: number,
    to: number,
    target: ConnectStormTarget,
    tally: Tally,
    list = clients,
  ): Promise<void> {
    const started = performance.now();
    await withConcurrency(to - from, concurrency, async (index) => {
      const client = list[from + index];
      if (client === undefined) return;
      const localAddress = localAddresses[(from + index) % localAddresses.length];
      const session = target.resume === true ? sessions.get(target.name) : undefined;
      const begin = performance.now();
      tally.attempts++;
      try {
        const { connection, returnCode } = await connectMqtt(
          {
            ...target.endpoint,
            ...(localAddress !== undefined && { localAddress }),
            ...(session !== undefined && { session }),
          },
          { clientId: client.clientId, password: client.token },
          (socket) => keepSession(target, socket),
        );
        tally.latencies.push(performance.now() - begin);
        if (returnCode === 0) tally.accepted++;
        else tally.refused++;
        if (connection.socket instanceof TLSSocket && connection.socket.isSessionReused()) tally.resumed++;
        connection.close();
      } catch {
        tally.latencies.push(performance.now() - begin);
        tally.failed++;
      }
    });
    tally.elapsedMs += performance.now() - started;
  }

  const warmupClients = params.warmupClients ?? clients;
  for (const target of targets)
    await storm(0, Math.min(params.warmup, warmupClients.length), target, emptyTally(), warmupClients);
  if (params.driven === true) {
    channel.send({ type: 'ready' });
    for (;;) {
      const message = await channel.next<RoundMessage | WorkerMessage>('round');
      if (!('target' in message)) break;
      const round = message as RoundMessage;
      const target = targets.find((candidate) => candidate.name === round.target);
      const tally = tallies.get(round.target);
      if (target === undefined || tally === undefined) break;
      const cpuBefore = cpuNow();
      await storm(round.from, round.to, target, tally);
      const done: RoundDoneMessage = {
        type: 'round-done',
        cpuMicros: cpuNow() - cpuBefore,
        attempts: round.to - round.from,
      };
      channel.send(done);
    }
  } else {
    await sleep(300);
    channel.mark('start');
    for (let offset = 0; offset < clients.length; offset += params.chunk) {
      const to = Math.min(clients.length, offset + params.chunk);
      for (const target of targets) await storm(offset, to, target, tallies.get(target.name) as Tally);
    }
    // Let the brokers finish the disconnects that belong to this storm before the CPU reading.
    await sleep(300);
    channel.mark('end');
  }
  const results: Record<string, ConnectStormResult> = {};
  for (const [name, tally] of tallies) {
    results[name] = {
      attempts: tally.attempts,
      accepted: tally.accepted,
      refused: tally.refused,
      failed: tally.failed,
      resumed: tally.resumed,
      elapsedMs: tally.elapsedMs,
      p50Ms: percentile(tally.latencies, 50),
      p99Ms: percentile(tally.latencies, 99),
    };
  }
  return results;
});
