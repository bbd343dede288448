// The dev token endpoint: `POST /dev/token {"user":"alice"}` signs a user token with the HS secret,
// so the demo page (or curl) can sign in without an identity provider. Dev mode only, and only on a
// loopback interface unless DEV_TOKENS_ALLOW_REMOTE=true: anyone who reaches it can be any user.
import type { IncomingMessage } from 'node:http';
import { isIPv4, isIPv6 } from 'node:net';
import { CashewError, isRecord, isValidUserId } from '../../protocol/index.ts';
import { sendJson, type Route } from '../http/routes.ts';
import type { Logger } from '../log/logger.ts';
import type { BrokerOptions } from '../options.ts';
import { DEFAULT_USER_TOKEN_TTL_SEC, signDevToken } from './sign-dev-token.ts';

export const DEV_TOKEN_PATH = '/dev/token';
/** The longest lifetime a dev token may ask for (1 day). */
export const MAX_DEV_TOKEN_TTL_SEC = 86_400;
/** A request body larger than this is refused (413). */
const MAX_BODY_BYTES = 4096;
/** A request body must arrive within this time. */
const BODY_TIMEOUT_MS = 5000;

/** `127.0.0.0/8`, `::1`, `::ffff:127.x.x.x` and `localhost` are loopback; `0.0.0.0` and `::` are not. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare.toLowerCase() === 'localhost') return true;
  if (isIPv4(bare)) return bare.startsWith('127.');
  if (isIPv6(bare)) {
    const lower = bare.toLowerCase();
    if (lower === '::1' || lower === '0:0:0:0:0:0:0:1') return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
    return mapped?.[1] !== undefined && mapped[1].startsWith('127.');
  }
  return false;
}

/** Whether the endpoint is served: dev mode and `DEV_TOKENS` (on by default in dev mode). */
export function devTokensEnabled(options: BrokerOptions): boolean {
  return options.mode === 'dev' && options.devTokens === true;
}

/**
 * Refuses to start when the endpoint would be reachable from other machines: dev mode, the endpoint
 * on, a non-loopback HOST, and no explicit DEV_TOKENS_ALLOW_REMOTE=true.
 */
export function assertDevTokensExposureAllowed(options: BrokerOptions): void {
  if (!devTokensEnabled(options) || isLoopbackHost(options.host) || options.devTokensAllowRemote === true)
    return;
  throw new CashewError(
    'ERR_CONFIG_INVALID',
    `HOST=${options.host} is not a loopback address while the dev token endpoint is on (CASHEW_MODE=dev): ` +
      'anyone who reaches the port could get a token for every user. Use HOST=127.0.0.1, turn the endpoint off ' +
      'with DEV_TOKENS=false, or accept the risk with DEV_TOKENS_ALLOW_REMOTE=true',
  );
}

export interface DevTokenEndpointOptions {
  readonly secret: string;
  readonly userClaim: string;
  readonly issuer?: string;
  readonly audience?: string;
  readonly logger: Logger;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  const timer = setTimeout(() => request.destroy(new Error('request body timed out')), BODY_TIMEOUT_MS);
  try {
    for await (const chunk of request) {
      const buffer = chunk as Buffer;
      size += buffer.length;
      if (size > MAX_BODY_BYTES) throw new RangeError('body too large');
      chunks.push(buffer);
    }
  } finally {
    clearTimeout(timer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

type TokenRequest = { readonly user: string; readonly ttlSec: number } | { readonly error: string };

function parseTokenRequest(body: unknown): TokenRequest {
  if (!isRecord(body)) return { error: 'expected a JSON object {"user": "<userId>", "ttl": <seconds>}' };
  if (!isValidUserId(body.user)) return { error: 'user must be a valid user id (no /, +, #, $)' };
  const ttl = body.ttl ?? DEFAULT_USER_TOKEN_TTL_SEC;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > MAX_DEV_TOKEN_TTL_SEC)
    return { error: `ttl must be whole seconds 1-${MAX_DEV_TOKEN_TTL_SEC}` };
  return { user: body.user, ttlSec: ttl };
}

/**
 * `POST /dev/token` with `content-type: application/json` and `{"user": "alice", "ttl": 3600}`
 * answers `{"token", "user", "expiresAt"}`. Requiring JSON makes a cross-site form post impossible
 * (it forces a CORS preflight, which this route never grants).
 */
export function createDevTokenRoute(options: DevTokenEndpointOptions): Route {
  const { logger } = options;
  return async (request, response) => {
    if (request.method !== 'POST') {
      response.setHeader('allow', 'POST');
      return sendJson(response, 405, { message: 'use POST' });
    }
    if (!(request.headers['content-type'] ?? '').startsWith('application/json'))
      return sendJson(response, 415, { code: 'ERR_BAD_PAYLOAD', message: 'send application/json' });
    let body: unknown;
    try {
      body = JSON.parse(await readBody(request)) as unknown;
    } catch (error) {
      const tooLarge = error instanceof RangeError;
      return sendJson(response, tooLarge ? 413 : 400, {
        code: 'ERR_BAD_PAYLOAD',
        message: tooLarge ? 'body too large' : 'body is not JSON',
      });
    }
    const parsed = parseTokenRequest(body);
    if ('error' in parsed)
      return sendJson(response, 400, { code: 'ERR_IDENTITY_INVALID', message: parsed.error });
    const token = signDevToken(
      { user: parsed.user },
      {
        secret: options.secret,
        userClaim: options.userClaim,
        ttlSec: parsed.ttlSec,
        ...(options.issuer !== undefined && { issuer: options.issuer }),
        ...(options.audience !== undefined && { audience: options.audience }),
      },
    );
    const expiresAt = new Date(Date.now() + parsed.ttlSec * 1000).toISOString();
    logger.info(
      { devToken: 'issued', user: parsed.user, ttlSec: parsed.ttlSec, address: request.socket.remoteAddress },
      'dev token issued',
    );
    sendJson(response, 200, { token, user: parsed.user, expiresAt });
  };
}

/** The endpoint's routes for these options: none outside dev mode or without an HS secret. */
export function devTokenRoutes(options: BrokerOptions, logger: Logger): Map<string, Route> {
  const routes = new Map<string, Route>();
  if (!devTokensEnabled(options)) return routes;
  const { token } = options;
  if (token.secret === undefined) {
    logger.warn('dev token endpoint off: tokens come from your identity provider (no JWT_SECRET)');
    return routes;
  }
  routes.set(
    DEV_TOKEN_PATH,
    createDevTokenRoute({
      secret: token.secret,
      userClaim: token.userClaim,
      logger,
      ...(token.issuer !== undefined && { issuer: token.issuer }),
      ...(token.audience !== undefined && { audience: token.audience }),
    }),
  );
  logger.warn(
    { path: DEV_TOKEN_PATH, host: options.host },
    'DEV TOKEN ENDPOINT ON: anyone reaching this port can get a token for every user (dev mode only)',
  );
  return routes;
}
