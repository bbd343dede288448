// The admin listener: plain HTTP on loopback (the default), HTTPS with the broker's certificate
// anywhere else, and a bearer token (ADMIN_TOKEN) on every request whenever one is set — which
// broker/admin/admin-options.ts requires off loopback. Never one of the public ports.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { CashewError } from '../../protocol/index.ts';
import type { TlsMaterial } from '../net/listeners.ts';
import { reasonOf } from '../setting-files.ts';
import { isLoopbackHost, type AdminOptions } from './admin-options.ts';
import { sendError } from './http-json.ts';

export type AdminHandler = (request: IncomingMessage, response: ServerResponse) => Promise<void>;

export interface AdminListener {
  readonly port: number;
  close(): Promise<void>;
}

/** Requests must arrive whole within this (a slow client cannot hold a socket open for long). */
const REQUEST_TIMEOUT_MS = 10_000;

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Whether the request carries `Authorization: Bearer <token>` (compared in constant time). */
export function hasBearer(request: IncomingMessage, token: string): boolean {
  const header = request.headers.authorization ?? '';
  const presented = header.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : '';
  return timingSafeEqual(digest(presented), digest(token));
}

/** The Host header's host name, without port or IPv6 brackets. */
function hostOf(request: IncomingMessage): string {
  const host = request.headers.host ?? '';
  try {
    return new URL(`http://${host}`).hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    return '';
  }
}

export async function startAdminListener(
  options: AdminOptions & { readonly port: number },
  tls: TlsMaterial,
  handle: AdminHandler,
): Promise<AdminListener> {
  const onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    // Without a token, only requests addressed to a loopback name: a web page whose DNS name was
    // rebound to 127.0.0.1 sends its own Host and is refused (DNS rebinding).
    if (options.token === undefined && !isLoopbackHost(hostOf(request))) {
      return sendError(
        response,
        new CashewError('ERR_ADMIN_UNAUTHORIZED', 'the Host header is not a loopback address'),
      );
    }
    if (options.token !== undefined && !hasBearer(request, options.token)) {
      response.setHeader('www-authenticate', 'Bearer');
      return sendError(response, new CashewError('ERR_ADMIN_UNAUTHORIZED'));
    }
    handle(request, response).catch(() => {
      if (!response.headersSent)
        sendError(response, new CashewError('ERR_START_FAILED', 'internal error'), 500);
      else response.destroy();
    });
  };
  const serverOptions = { requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: REQUEST_TIMEOUT_MS };
  const server = options.tls
    ? createHttpsServer({ ...serverOptions, cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, onRequest)
    : createHttpServer(serverOptions, onRequest);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (cause) {
    throw new CashewError(
      'ERR_START_FAILED',
      `ADMIN_PORT: cannot listen on ${options.host}:${options.port} (${reasonOf(cause)})`,
      { cause },
    );
  }
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
