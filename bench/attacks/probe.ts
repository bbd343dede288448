// What an attack costs everyone else: a bystander user's round trip (a QoS 0 PUBLISH to its own topic
// every 20 ms, timed until the broker delivers it back) and the broker's resident memory (sampled
// every 50 ms from /proc), both over the attack's whole run. The probe runs in a process of its own,
// so that the attacker's work does not delay its timers.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { percentile } from '../lib/stats.ts';
import { rssBytes } from '../lib/proc.ts';
import { connectMqtt, encodePublish, encodeSubscribe, PACKET, type Endpoint } from '../lib/mqtt-wire.ts';

const PROBE_EVERY_MS = 20;
const RSS_EVERY_MS = 50;

export interface Bystander {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Probes sent and not back by the end of the window. */
  readonly lost: number;
  readonly samples: number;
}

export interface Watch {
  /** Stops watching: the bystander's round trips and the broker's peak RSS over the window. */
  stop(): Promise<{ bystander: Bystander; peakRssBytes: number }>;
}

export class RoundTripProbe {
  readonly #sent = new Map<number, bigint>();
  #samples: number[] = [];
  #counter = 0;

  private constructor(
    private readonly publish: (payload: Buffer) => void,
    private readonly topic: string,
  ) {}

  static async connect(endpoint: Endpoint, userId: string, token: string): Promise<RoundTripProbe> {
    const { connection, returnCode } = await connectMqtt(endpoint, {
      clientId: `${userId}/probe`,
      password: token,
    });
    if (returnCode !== 0) throw new Error(`probe refused: CONNACK ${returnCode}`);
    const topic = `${userId}/rtt`;
    const suback = connection.next(PACKET.SUBACK);
    connection.write(encodeSubscribe(1, [topic]));
    await suback;
    const probe = new RoundTripProbe((payload) => connection.write(encodePublish(topic, payload)), topic);
    connection.onPublish = (received, payload) => {
      if (received !== probe.topic) return;
      const id = payload.readUInt32BE(0);
      const at = probe.#sent.get(id);
      if (at === undefined) return;
      probe.#sent.delete(id);
      probe.#samples.push(Number(process.hrtime.bigint() - at) / 1e6);
    };
    return probe;
  }

  /** Probes the round trip and samples `pid`'s RSS until `stop`. */
  watch(pid: number): Watch {
    this.#samples = [];
    this.#sent.clear();
    let peak = rssBytes(pid);
    const rss = setInterval(() => {
      const now = rssBytes(pid);
      if (now > peak) peak = now;
    }, RSS_EVERY_MS);
    const probes = setInterval(() => {
      const payload = Buffer.alloc(4);
      payload.writeUInt32BE(++this.#counter);
      this.#sent.set(this.#counter, process.hrtime.bigint());
      this.publish(payload);
    }, PROBE_EVERY_MS);
    return {
      stop: async () => {
        clearInterval(probes);
        // The last probes get a second to come back; a probe still out after it is lost.
        await new Promise((resolve) => setTimeout(resolve, 1000));
        clearInterval(rss);
        const samples = this.#samples;
        return {
          bystander: {
            p50Ms: percentile(samples, 50),
            p99Ms: percentile(samples, 99),
            maxMs: samples.length === 0 ? Number.NaN : Math.max(...samples),
            lost: this.#sent.size,
            samples: samples.length,
          },
          peakRssBytes: peak,
        };
      },
    };
  }
}

interface ProbeParams {
  readonly endpoint: Endpoint;
  readonly userId: string;
  readonly token: string;
  readonly pid: number;
}

type Report = { bystander: Bystander; peakRssBytes: number };

/** The probe in its own process: `watch()` starts a window, the returned `stop()` ends it. */
export class ProbeProcess {
  readonly #child: ChildProcess;

  private constructor(child: ChildProcess) {
    this.#child = child;
  }

  static async start(params: ProbeParams): Promise<ProbeProcess> {
    const child = fork(fileURLToPath(import.meta.url), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, CASHEW_PROBE: JSON.stringify(params) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`probe exited with ${code}`)));
    });
    return new ProbeProcess(child);
  }

  watch(): Watch {
    this.#child.send('watch');
    return {
      stop: () =>
        new Promise<Report>((resolve) => {
          this.#child.once('message', (report) => resolve(report as Report));
          this.#child.send('stop');
        }),
    };
  }

  close(): void {
    this.#child.kill();
  }
}

if (process.env.CASHEW_PROBE !== undefined && process.send !== undefined) {
  const { endpoint, userId, token, pid } = JSON.parse(process.env.CASHEW_PROBE) as ProbeParams;
  const probe = await RoundTripProbe.connect(endpoint, userId, token);
  let watching: Watch | undefined;
  process.on('message', (message: string) => {
    if (message === 'watch') watching = probe.watch(pid);
    else if (message === 'stop' && watching !== undefined)
      void watching.stop().then((report) => process.send?.(report));
  });
  process.send('ready');
}
