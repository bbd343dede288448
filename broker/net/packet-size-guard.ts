// The maximum MQTT packet size, enforced from the fixed header before the body is buffered.
//
// aedes 1.x and mqtt-packet accept packets of up to 256 MB and buffer each whole before parsing it,
// so one CONNECT declaring 64 MB, sent before any token is checked, held 64 MB. This guard reads the
// same bytes aedes reads (a `data` listener: with aedes' `readable` listener in place, `data` fires
// inside each `read()`, before the bytes reach the parser), decodes only the fixed headers (type byte
// and Remaining Length) and skips bodies arithmetically. A packet declared larger than the limit
// destroys the connection at once: at most the chunk that carried the header reaches the parser.
//
// Two limits: a tight one until the client is accepted (a CONNECT carries a client id, a token and
// perhaps a will), a larger one afterwards.
import type { Duplex } from 'node:stream';

export interface PacketSizeLimits {
  /** The largest packet (fixed header included) before the client is accepted: its CONNECT. */
  readonly beforeAuthentication: number;
  /** The largest packet once the client is accepted. */
  readonly afterAuthentication: number;
}

export interface Oversize {
  /** The packet's total size as its fixed header declares it, in bytes. */
  readonly declared: number;
  readonly limit: number;
  readonly authenticated: boolean;
  /** The peer address the guard was given (for the audit line). */
  readonly address: string | undefined;
}

/** Remaining Length takes at most 4 bytes (MQTT-2.2.3). */
const MAX_LENGTH_BYTES = 4;

/**
 * A guarded stream carries its guard under this symbol (Cashew's own, on the stream object), so that
 * one `data` listener shared by every connection finds it: no closure per connection, no table.
 */
const GUARD = Symbol('cashew.packetSizeGuard');
type Guarded = Duplex & { [GUARD]?: PacketSizeGuard };

export class PacketSizeGuard {
  /** The `data` listener of every guarded stream (`this` is the stream). */
  static readonly #onData = function (this: Guarded, chunk: Buffer | string): void {
    const guard = this[GUARD];
    if (guard !== undefined) guard.#scan(chunk);
  };

  readonly #stream: Duplex;
  /** The limit once authenticated (a number, not the caller's limits object: that one is let go). */
  readonly #afterAuthentication: number;
  /** One callback for every connection of a listener: the address rides here, not in a closure. */
  readonly #onOversize: (oversize: Oversize) => void;
  readonly #address: string | undefined;
  #limit: number;
  /** Body bytes of the current packet still to pass. */
  #skip = 0;
  /** 0: expecting a type byte; 1..4: reading Remaining Length, that many bytes read so far. */
  #lengthBytes = 0;
  #length = 0;
  #stopped = false;

  constructor(
    stream: Duplex,
    limits: PacketSizeLimits,
    onOversize: (oversize: Oversize) => void,
    address?: string,
  ) {
    this.#stream = stream;
    this.#address = address;
    this.#afterAuthentication = limits.afterAuthentication;
    this.#onOversize = onOversize;
    this.#limit = limits.beforeAuthentication;
    (stream as Guarded)[GUARD] = this;
    stream.on('data', PacketSizeGuard.#onData);
  }

  /** The client was accepted: from now on, packets up to the larger limit pass. */
  authenticated(): void {
    this.#limit = this.#afterAuthentication;
  }

  /**
   * Runs on every chunk a connection sends (hot path): the state is read into locals once, bodies are
   * skipped by arithmetic (a body that goes on past the chunk leaves the rest in #skip), and only the
   * fixed headers' bytes are looked at.
   */
  #scan(chunk: Buffer | string): void {
    if (this.#stopped || typeof chunk === 'string') return;
    const end = chunk.length;
    let at = this.#skip;
    if (at >= end) {
      this.#skip = at - end;
      return;
    }
    let lengthBytes = this.#lengthBytes;
    let length = this.#length;
    while (at < end) {
      const byte = chunk[at++] as number;
      if (lengthBytes === 0) {
        lengthBytes = 1;
        length = 0;
        continue;
      }
      // a shift, not `128 **`: the sum stays a small integer (≤ 2^28), stored unboxed in the guard
      length += (byte & 0x7f) << (7 * (lengthBytes - 1));
      if ((byte & 0x80) !== 0) {
        // A fifth length byte is malformed: mqtt-packet refuses it and aedes closes the connection.
        if (lengthBytes === MAX_LENGTH_BYTES) return this.#stop();
        lengthBytes += 1;
        continue;
      }
      const declared = 1 + lengthBytes + length;
      if (declared > this.#limit) {
        this.#stop();
        this.#onOversize({
          declared,
          limit: this.#limit,
          authenticated: this.#limit === this.#afterAuthentication,
          address: this.#address,
        });
        this.#stream.destroy();
        return;
      }
      at += length;
      lengthBytes = 0;
    }
    this.#skip = at - end;
    this.#lengthBytes = lengthBytes;
    this.#length = length;
  }

  #stop(): void {
    this.#stopped = true;
    this.#stream.off('data', PacketSizeGuard.#onData);
  }
}

/** Guards `stream`, which aedes already handles (attach after `aedes.handle`, see the file comment). */
export function guardPacketSize(
  stream: Duplex,
  limits: PacketSizeLimits,
  onOversize: (oversize: Oversize) => void,
  address?: string,
): PacketSizeGuard {
  return new PacketSizeGuard(stream, limits, onOversize, address);
}

/** Raises the limit of the connection `stream` once its client is accepted (no-op when unguarded). */
export function markAuthenticated(stream: Duplex): void {
  (stream as Guarded)[GUARD]?.authenticated();
}
