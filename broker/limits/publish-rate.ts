// The publish rate of one connection: a token bucket. Past it a PUBLISH is dropped (acknowledged, so
// QoS 1 senders are not stuck retrying it); a connection that goes on sending a whole burst's worth
// while over the rate is disconnected. Handlers get their own, higher, rate (they serve every user).
export interface PublishRate {
  /** Sustained PUBLISHes per second (`PUBLISH_RATE`, `HANDLER_PUBLISH_RATE`). */
  readonly perSecond: number;
  /** PUBLISHes at once before the rate applies (`PUBLISH_BURST`, `HANDLER_PUBLISH_BURST`). */
  readonly burst: number;
}

export type PublishVerdict = 'allow' | 'drop' | 'disconnect';

export class PublishBucket {
  readonly #rate: PublishRate;
  #tokens: number;
  #at: number;
  /** Drops since the last allowed PUBLISH. */
  #dropped = 0;

  constructor(rate: PublishRate, now: number) {
    this.#rate = rate;
    this.#tokens = rate.burst;
    this.#at = now;
  }

  admit(now: number): PublishVerdict {
    const rate = this.#rate;
    this.#tokens = Math.min(rate.burst, this.#tokens + ((now - this.#at) / 1000) * rate.perSecond);
    this.#at = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      this.#dropped = 0;
      return 'allow';
    }
    this.#dropped += 1;
    return this.#dropped > rate.burst ? 'disconnect' : 'drop';
  }

  /** PUBLISHes dropped since the last one allowed. */
  get dropped(): number {
    return this.#dropped;
  }
}
