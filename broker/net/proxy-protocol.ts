// PROXY protocol v1 (text) and v2 (binary) in front of the TLS and WSS listeners, so that logs and
// limits see the real client address behind a TCP load balancer. Only peers on the allowlist
// (TRUSTED_PROXIES) are believed; from anyone else a PROXY header is refused, never parsed.
// aedes 1.2's `trustProxy`/`trustedProxies` options are stored but read by nothing in aedes
// itself (they serve aedes-server-factory, whose PROXY support trusts every peer), hence this file.
import { BlockList, createServer, isIP, type Server, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../log/logger.ts';

export interface ProxiedAddress {
  readonly address: string;
  readonly port: number;
}

export type HeaderParse =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'invalid'; readonly reason: string }
  /** `source` is absent for v2 LOCAL (health checks) and v1 UNKNOWN: the socket's own address stands. */
  | { readonly kind: 'header'; readonly length: number; readonly source?: ProxiedAddress };

const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
const V1_MAX_LENGTH = 107;
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V2_FIXED_LENGTH = 16;
/** Wait at most this long for a trusted proxy's header. */
export const PROXY_HEADER_TIMEOUT_MS = 5000;

function startsWithPart(buffer: Buffer, prefix: Buffer): boolean {
  const length = Math.min(buffer.length, prefix.length);
  return buffer.subarray(0, length).equals(prefix.subarray(0, length));
}

/** Whether the first bytes are (or may become) a PROXY header of either version. */
export function looksLikeProxyHeader(buffer: Buffer): boolean {
  return startsWithPart(buffer, V1_PREFIX) || startsWithPart(buffer, V2_SIGNATURE);
}

function parsePort(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

function parseV1(buffer: Buffer): HeaderParse {
  const end = buffer.indexOf('\r\n', 0, 'latin1');
  if (end === -1) {
    return buffer.length >= V1_MAX_LENGTH
      ? { kind: 'invalid', reason: 'v1 header too long' }
      : { kind: 'incomplete' };
  }
  const length = end + 2;
  if (length > V1_MAX_LENGTH) return { kind: 'invalid', reason: 'v1 header too long' };
  const [, family, source, destination, sourcePort, destinationPort, ...rest] = buffer
    .toString('latin1', 0, end)
    .split(' ');
  if (family === 'UNKNOWN') return { kind: 'header', length };
  const version = family === 'TCP4' ? 4 : family === 'TCP6' ? 6 : 0;
  const port = parsePort(sourcePort);
  if (
    version === 0 ||
    rest.length > 0 ||
    source === undefined ||
    isIP(source) !== version ||
    destination === undefined ||
    isIP(destination) !== version ||
    port === undefined ||
    parsePort(destinationPort) === undefined
  ) {
    return { kind: 'invalid', reason: 'malformed v1 header' };
  }
  return { kind: 'header', length, source: { address: source, port } };
}

function ipv6Of(bytes: Buffer): string {
  const groups: string[] = [];
  for (let offset = 0; offset < 16; offset += 2) groups.push(bytes.readUInt16BE(offset).toString(16));
  return groups.join(':');
}

function parseV2(buffer: Buffer): HeaderParse {
  if (buffer.length < V2_FIXED_LENGTH) return { kind: 'incomplete' };
  const versionCommand = buffer.readUInt8(12);
  if (versionCommand >> 4 !== 2) return { kind: 'invalid', reason: 'unsupported v2 version' };
  const command = versionCommand & 0x0f;
  const familyProtocol = buffer.readUInt8(13);
  const length = V2_FIXED_LENGTH + buffer.readUInt16BE(14);
  if (buffer.length < length) return { kind: 'incomplete' };
  if (command === 0x0) return { kind: 'header', length }; // LOCAL: the proxy speaking for itself
  if (command !== 0x1) return { kind: 'invalid', reason: 'unsupported v2 command' };
  const body = buffer.subarray(V2_FIXED_LENGTH, length);
  if (familyProtocol === 0x11 && body.length >= 12) {
    const address = `${body[0]}.${body[1]}.${body[2]}.${body[3]}`;
    return { kind: 'header', length, source: { address, port: body.readUInt16BE(8) } };
  }
  if (familyProtocol === 0x21 && body.length >= 36) {
    return { kind: 'header', length, source: { address: ipv6Of(body), port: body.readUInt16BE(32) } };
  }
  if (familyProtocol === 0x00) return { kind: 'header', length }; // UNSPEC
  return { kind: 'invalid', reason: 'unsupported v2 address family' };
}

/** Parses a PROXY header at the start of `buffer`. Pure: no socket involved. */
export function parseProxyHeader(buffer: Buffer): HeaderParse {
  if (startsWithPart(buffer, V2_SIGNATURE)) {
    return buffer.length < V2_SIGNATURE.length ? { kind: 'incomplete' } : parseV2(buffer);
  }
  if (startsWithPart(buffer, V1_PREFIX)) {
    return buffer.length < V1_PREFIX.length ? { kind: 'incomplete' } : parseV1(buffer);
  }
  return { kind: 'invalid', reason: 'no PROXY header' };
}

function subnetOf(entry: string): { address: string; prefix: number; type: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', prefixText, ...rest] = entry.split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return undefined;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) return undefined;
  return { address, prefix, type: version === 4 ? 'ipv4' : 'ipv6' };
}

/** Whether a TRUSTED_PROXIES entry is an IP address or a CIDR (`10.0.0.0/8`, `fd00::/8`). */
export function isAddressOrSubnet(entry: string): boolean {
  return subnetOf(entry) !== undefined;
}

/** The allowlist as a node BlockList; IPv4 entries also match their IPv4-mapped IPv6 form. */
export function trustListOf(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const subnet = subnetOf(entry);
    if (subnet === undefined) throw new TypeError(`not an address or CIDR: ${entry}`);
    list.addSubnet(subnet.address, subnet.prefix, subnet.type);
  }
  return list;
}

export function isTrusted(list: BlockList, address: string | undefined): boolean {
  if (address === undefined) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  const plain = mapped ?? address;
  const version = isIP(plain);
  return version !== 0 && list.check(plain, version === 4 ? 'ipv4' : 'ipv6');
}

/** Real client addresses of raw sockets accepted through a trusted proxy. */
const proxiedSockets = new WeakMap<Socket, ProxiedAddress>();

/** Makes `remoteAddress`/`remotePort` of a socket report the client behind the proxy. */
function presentAs(socket: Socket, source: ProxiedAddress): void {
  Object.defineProperty(socket, 'remoteAddress', { value: source.address, configurable: true });
  Object.defineProperty(socket, 'remotePort', { value: source.port, configurable: true });
}

export interface ProxyFrontOptions {
  readonly trusted: BlockList;
  readonly logger: Logger;
  readonly listener: string;
  readonly headerTimeoutMs?: number;
}

/**
 * A plain TCP server in front of `target` (a TLS or HTTPS server that does not listen itself):
 * reads the PROXY header from trusted peers, then hands the socket over. Peers not on the list go
 * straight through with their own address, unless they send a PROXY header: then they are refused.
 */
export function proxyProtocolFront(target: Server, options: ProxyFrontOptions): Server {
  const { trusted, logger, listener } = options;
  const timeoutMs = options.headerTimeoutMs ?? PROXY_HEADER_TIMEOUT_MS;
  target.on('secureConnection', (tlsSocket: TLSSocket) => {
    const parent = (tlsSocket as TLSSocket & { _parent?: Socket })._parent;
    const source = parent === undefined ? undefined : proxiedSockets.get(parent);
    if (source !== undefined) presentAs(tlsSocket, source);
  });
  return createServer((socket) => {
    const peer = socket.remoteAddress;
    const fromProxy = isTrusted(trusted, peer);
    let received = Buffer.alloc(0);
    const refuse = (reason: string): void => {
      logger.warn(
        { audit: 'refused', action: 'proxy', listener, address: peer, reason },
        'refused proxy connection',
      );
      socket.destroy();
    };
    const timer = setTimeout(
      () => refuse(fromProxy ? 'no PROXY header in time' : 'nothing received in time'),
      timeoutMs,
    );
    timer.unref();
    const handOver = (rest: Buffer): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onError);
      socket.pause();
      if (rest.length > 0) socket.unshift(rest);
      target.emit('connection', socket);
    };
    /** A peer that goes away before its header (a load balancer's TCP health check) is no refusal. */
    const onError = (): void => clearTimeout(timer);
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      if (!fromProxy) {
        if (!looksLikeProxyHeader(received)) return handOver(received);
        if (received.length >= V1_PREFIX.length) return refuse('PROXY header from an untrusted peer');
        return;
      }
      const parsed = parseProxyHeader(received);
      if (parsed.kind === 'incomplete') return;
      if (parsed.kind === 'invalid') return refuse(parsed.reason);
      if (parsed.source !== undefined) {
        proxiedSockets.set(socket, parsed.source);
        logger.debug({ listener, proxy: peer, client: parsed.source.address }, 'proxied connection');
      }
      handOver(received.subarray(parsed.length));
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onError);
  });
}
