// What the admin API shows of connected clients: one plain JSON object per connection, filtered by
// user id or handler name, bounded by `limit`; and one user's devices on this node.
import { subscribedFilters } from '../aedes/client-internals.ts';
import type { Identity } from '../auth/identity.ts';
import type { LiveClient, LiveClients } from '../bans/live-clients.ts';
import type { SessionDirectory } from '../bans/session-directory.ts';

export const DEFAULT_LIST_LIMIT = 1000;
export const MAX_LIST_LIMIT = 10_000;

export interface ClientView {
  readonly clientId: string;
  readonly role: 'user' | 'handler';
  readonly userId?: string;
  readonly handler?: string;
  readonly transport: string;
  readonly address?: string;
  readonly connectedAt: string;
  readonly tokenExpiresAt: string;
  readonly subscriptions: string[];
}

export interface ClientFilter {
  readonly userId?: string;
  readonly handler?: string;
  readonly limit: number;
}

export function viewOf(live: LiveClient): ClientView {
  const { identity, subject, client } = live;
  return {
    clientId: subject.clientId,
    role: identity.role,
    ...(identity.role === 'user' ? { userId: identity.userId } : { handler: identity.name }),
    transport: live.transport,
    ...(subject.address !== undefined && { address: subject.address }),
    connectedAt: new Date(live.connectedAt).toISOString(),
    tokenExpiresAt: new Date(identity.expiresAt).toISOString(),
    subscriptions: subscribedFilters(client),
  };
}

function matches({ identity }: { readonly identity: Identity }, filter: ClientFilter): boolean {
  if (filter.userId !== undefined && (identity.role !== 'user' || identity.userId !== filter.userId))
    return false;
  if (filter.handler !== undefined && (identity.role !== 'handler' || identity.name !== filter.handler))
    return false;
  return true;
}

/** The matching clients (at most `limit`) and how many matched in all. */
export function listClients(
  live: LiveClients,
  filter: ClientFilter,
): { total: number; clients: ClientView[] } {
  const clients: ClientView[] = [];
  let total = 0;
  for (const entry of live.all()) {
    if (entry.client.closed || !matches(entry, filter)) continue;
    total += 1;
    if (clients.length < filter.limit) clients.push(viewOf(entry));
  }
  return { total, clients };
}

export function showUser(
  live: LiveClients,
  userId: string,
): { userId: string; connected: boolean; devices: ClientView[]; subscriptions: string[]; lastSeen?: string } {
  const { clients } = listClients(live, { userId, limit: MAX_LIST_LIMIT });
  const lastSeen = live.lastSeen(userId);
  return {
    userId,
    connected: clients.length > 0,
    devices: clients,
    subscriptions: [...new Set(clients.flatMap((client) => client.subscriptions))].sort(),
    ...(clients.length > 0
      ? { lastSeen: new Date().toISOString() }
      : lastSeen !== undefined && { lastSeen: new Date(lastSeen).toISOString() }),
  };
}

export interface SessionView {
  readonly clientId: string;
  readonly role: 'user' | 'handler';
  readonly userId?: string;
  readonly handler?: string;
  readonly connected: boolean;
  /** When it connected, or when its client went away. */
  readonly since: string;
}

/** Persistent sessions this node has seen (connected or not), filtered like clients. */
export function listSessions(
  sessions: SessionDirectory,
  filter: ClientFilter,
): { total: number; sessions: SessionView[] } {
  const views: SessionView[] = [];
  let total = 0;
  for (const entry of sessions.all()) {
    if (!matches(entry, filter)) continue;
    total += 1;
    if (views.length >= filter.limit) continue;
    const { identity } = entry;
    views.push({
      clientId: entry.clientId,
      role: identity.role,
      ...(identity.role === 'user' ? { userId: identity.userId } : { handler: identity.name }),
      connected: entry.connected,
      since: new Date(entry.since).toISOString(),
    });
  }
  return { total, sessions: views };
}
