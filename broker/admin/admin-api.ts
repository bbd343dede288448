// The admin API's routes (docs/operations.md): metrics, readiness, clients and users, kicks, bans
// and revocations. Input is `unknown` until narrowed; every action is audited with the caller's
// address; answers are JSON, errors `{"error":{"code","message"}}`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CashewError, isRecord, isValidUserId } from '../../protocol/index.ts';
import { auditAdminAction, type AdminAction } from '../log/audit.ts';
import type { Logger } from '../log/logger.ts';
import { BAN_KINDS, invalidBanValue, type Ban, type BanKind } from '../bans/ban.ts';
import type { BanGuard } from '../bans/ban-guard.ts';
import type { LiveClients } from '../bans/live-clients.ts';
import type { BrokerMetrics } from '../metrics/broker-metrics.ts';
import type { AdminHandler } from './admin-listener.ts';
import type { SessionDirectory } from '../bans/session-directory.ts';
import {
  DEFAULT_LIST_LIMIT,
  listClients,
  listSessions,
  MAX_LIST_LIMIT,
  showUser,
  type ClientFilter,
} from './client-directory.ts';
import { badRequest, readJsonBody, sendError, sendJson } from './http-json.ts';
import type { Readiness } from './readiness.ts';

export interface AdminApiContext {
  readonly node: string;
  readonly logger: Logger;
  readonly guard: BanGuard;
  readonly live: LiveClients;
  readonly sessions: SessionDirectory;
  readonly metrics: BrokerMetrics;
  readonly readiness: Readiness;
  readonly maxBanTtlSec: number;
}

type Handler = (request: IncomingMessage, response: ServerResponse, url: URL) => Promise<void>;

function optionalString(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw badRequest(`${name} must be a non-empty string`);
  return value;
}

async function recordBody(request: IncomingMessage): Promise<Record<string, unknown>> {
  // A browser sends a cross-site POST without asking first only with a form or text content type:
  // insisting on JSON keeps a web page from driving a loopback admin API without a token.
  if (!(request.headers['content-type'] ?? '').startsWith('application/json'))
    throw badRequest('the body must be sent as content-type: application/json');
  const body = await readJsonBody(request);
  if (!isRecord(body)) throw badRequest('the body must be a JSON object');
  return body;
}

function limitOf(url: URL): number {
  const raw = url.searchParams.get('limit');
  if (raw === null) return DEFAULT_LIST_LIMIT;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT)
    throw badRequest(`limit must be a whole number 1-${MAX_LIST_LIMIT}`);
  return limit;
}

function filterOf(url: URL): ClientFilter {
  const userId = url.searchParams.get('user') ?? undefined;
  const handler = url.searchParams.get('handler') ?? undefined;
  return {
    ...(userId !== undefined && { userId }),
    ...(handler !== undefined && { handler }),
    limit: limitOf(url),
  };
}

function kindOf(value: unknown): BanKind {
  if (typeof value !== 'string' || !(BAN_KINDS as readonly string[]).includes(value))
    throw badRequest(`kind must be one of ${BAN_KINDS.join(', ')}`);
  return value as BanKind;
}

export function createAdminApi(context: AdminApiContext): AdminHandler {
  const { node, logger, guard, live, sessions, metrics, readiness, maxBanTtlSec } = context;

  function ttlOf(body: Record<string, unknown>): number {
    const ttl = body.ttlSec ?? maxBanTtlSec;
    if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > maxBanTtlSec)
      throw badRequest(`ttlSec must be a whole number of seconds 1-${maxBanTtlSec}`);
    return ttl;
  }

  function audit(request: IncomingMessage, action: Omit<AdminAction, 'operator'>): void {
    auditAdminAction(logger, { ...action, operator: request.socket.remoteAddress ?? 'unknown' });
  }

  async function addBan(request: IncomingMessage, response: ServerResponse, ban: Ban): Promise<void> {
    const closed = await guard.ban(ban);
    audit(request, {
      action: ban.kind === 'issuedBefore' ? 'revoke' : 'ban',
      target: { kind: ban.kind, value: ban.value, expiresAt: new Date(ban.expiresAt).toISOString() },
      outcome: { closed, node },
    });
    sendJson(response, 201, { ban: banView(ban), closed, node });
  }

  const routes: Record<string, Handler> = {
    'GET /metrics': async (_request, response) => {
      const text = await metrics.metrics();
      response.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
      response.end(text);
    },
    'GET /readyz': async (_request, response) => {
      const state = await readiness.check();
      sendJson(response, state.ready ? 200 : 503, { ...state, node });
    },
    'GET /api/clients': (_request, response, url) => {
      sendJson(response, 200, { node, ...listClients(live, filterOf(url)) });
      return Promise.resolve();
    },
    'GET /api/sessions': (_request, response, url) => {
      sendJson(response, 200, { node, ...listSessions(sessions, filterOf(url)) });
      return Promise.resolve();
    },
    'POST /api/kick': async (request, response) => {
      const body = await recordBody(request);
      const clientId = optionalString(body, 'clientId');
      const userId = optionalString(body, 'userId');
      if ((clientId === undefined) === (userId === undefined)) throw badRequest('give clientId or userId');
      const target = clientId !== undefined ? { clientId } : { userId: userId ?? '' };
      const closed = await guard.kick(target);
      audit(request, { action: 'kick', target, outcome: { closed, node } });
      sendJson(response, 200, { closed, node });
    },
    'GET /api/bans': (_request, response) => {
      sendJson(response, 200, { node, bans: guard.list().map(banView) });
      return Promise.resolve();
    },
    'POST /api/bans': async (request, response) => {
      const body = await recordBody(request);
      const kind = kindOf(body.kind);
      if (kind === 'issuedBefore') throw badRequest('use POST /api/revoke for a cut-off by iat');
      const value = body.value;
      if (typeof value !== 'string') throw badRequest('value must be a string');
      const invalid = invalidBanValue(kind, value);
      if (invalid !== undefined) throw badRequest(`value: ${invalid}`);
      const reason = optionalString(body, 'reason');
      const now = Date.now();
      await addBan(request, response, {
        kind,
        value,
        createdAt: now,
        expiresAt: now + ttlOf(body) * 1000,
        ...(reason !== undefined && { reason: reason.slice(0, 200) }),
      });
    },
    'DELETE /api/bans': async (request, response, url) => {
      const kind = kindOf(url.searchParams.get('kind'));
      const value = url.searchParams.get('value') ?? '';
      const removed = await guard.unban(kind, value);
      audit(request, {
        action: 'unban',
        target: { kind, value },
        outcome: { removed: removed !== undefined, node },
      });
      if (removed === undefined) throw new CashewError('ERR_ADMIN_NOT_FOUND', `no ${kind} ban on ${value}`);
      sendJson(response, 200, { removed: banView(removed), node });
    },
    'POST /api/revoke': async (request, response) => {
      const body = await recordBody(request);
      const userId = body.userId;
      if (!isValidUserId(userId)) throw badRequest('userId must be a valid user id');
      const reason = optionalString(body, 'reason');
      const now = Date.now();
      await addBan(request, response, {
        kind: 'issuedBefore',
        value: userId,
        issuedBeforeSec: Math.floor(now / 1000),
        createdAt: now,
        expiresAt: now + ttlOf(body) * 1000,
        ...(reason !== undefined && { reason: reason.slice(0, 200) }),
      });
    },
  };

  return async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://admin');
    try {
      const user = /^\/api\/users\/([^/]+)$/.exec(url.pathname);
      if (request.method === 'GET' && user !== null) {
        const userId = decodeURIComponent(user[1] ?? '');
        if (!isValidUserId(userId)) throw badRequest('not a valid user id');
        sendJson(response, 200, {
          node,
          ...showUser(live, userId),
          bans: guard
            .list()
            .filter((ban) => ban.value === userId)
            .map(banView),
        });
        return;
      }
      const route = routes[`${request.method ?? 'GET'} ${url.pathname}`];
      if (route === undefined)
        throw new CashewError('ERR_ADMIN_NOT_FOUND', `no route ${request.method} ${url.pathname}`);
      await route(request, response, url);
    } catch (error) {
      if (!(error instanceof CashewError)) throw error;
      sendError(response, error);
    }
  };
}

function banView(ban: Ban): Record<string, unknown> {
  return {
    kind: ban.kind,
    value: ban.value,
    createdAt: new Date(ban.createdAt).toISOString(),
    expiresAt: new Date(ban.expiresAt).toISOString(),
    ...(ban.issuedBeforeSec !== undefined && {
      issuedBefore: new Date(ban.issuedBeforeSec * 1000).toISOString(),
    }),
    ...(ban.reason !== undefined && { reason: ban.reason }),
  };
}
