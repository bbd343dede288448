// `cashew admin`: the admin API from the command line (docs/operations.md): list clients and bans,
// show a user, kick, ban, unban, revoke. Human-readable tables by default, the API's JSON with --json.
// Exit codes: 0 done, 1 the broker refused or could not be reached, 2 a command line that cannot mean anything.
import { parseArgs } from 'node:util';
import type { BanKind } from '../broker/bans/ban.ts';
import { isRecord } from '../protocol/index.ts';
import { adminTargetFrom, callAdmin, type AdminTarget } from './admin-client.ts';
import { json, table } from './admin-table.ts';
import { UsageError } from './usage-error.ts';

export const USAGE = `usage: cashew admin <action> [arguments] [--url <url>] [--token <token>] [--ca <pem>] [--json]
Talks to the broker's admin listener (ADMIN_HOST:ADMIN_PORT, 127.0.0.1:9883 by default, with ADMIN_TOKEN).
  clients [--user <id>] [--handler <name>] [--limit <n>]   connected clients of the node
  sessions [--user <id>] [--handler <name>]      persistent sessions this node has seen
  show <userId>                                  a user's devices, subscriptions, last seen, bans
  kick --client-id <id> | --user <id>            close a client, or every connection of a user (all nodes)
  ban <kind> <value> [--ttl <sec>] [--reason <text>]
                                                 kind: user, client-id, address (IP or CIDR), jti
  unban <kind> <value>                           lift a ban
  bans                                           bans and revocations in force
  revoke <userId> [--ttl <sec>]                  refuse every token of the user issued before now
  --url    the admin listener (default from ADMIN_HOST/ADMIN_PORT; https off loopback)
  --token  bearer token (default ADMIN_TOKEN)    --ca  CA certificate for an HTTPS listener
  --json   print the API's JSON answer`;

const FLAGS = {
  url: { type: 'string' },
  token: { type: 'string' },
  ca: { type: 'string' },
  json: { type: 'boolean' },
  user: { type: 'string' },
  handler: { type: 'string' },
  limit: { type: 'string' },
  'client-id': { type: 'string' },
  ttl: { type: 'string' },
  reason: { type: 'string' },
} as const;

/** The CLI spells the kinds in kebab case; the API in camel case. */
const KINDS: Readonly<Record<string, BanKind>> = {
  user: 'user',
  'client-id': 'clientId',
  address: 'address',
  jti: 'jti',
};

type Values = ReturnType<typeof parseArgs<{ options: typeof FLAGS; allowPositionals: true }>>['values'];

function text(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map(text).join(',');
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function records(value: unknown, field: string): Record<string, unknown>[] {
  const list = isRecord(value) ? value[field] : undefined;
  return Array.isArray(list) ? list.filter(isRecord) : [];
}

function ttlOf(values: Values): { ttlSec?: number } {
  if (values.ttl === undefined) return {};
  const ttlSec = Number(values.ttl);
  if (!Number.isInteger(ttlSec) || ttlSec < 1) throw new UsageError('--ttl: whole seconds, at least 1');
  return { ttlSec };
}

function kindOf(raw: string | undefined): BanKind {
  const kind = raw === undefined ? undefined : KINDS[raw];
  if (kind === undefined)
    throw new UsageError(`a ban kind is one of ${Object.keys(KINDS).join(', ')} (got ${String(raw)})`);
  return kind;
}

function argument(positionals: readonly string[], index: number, what: string): string {
  const value = positionals[index];
  if (value === undefined || value === '') throw new UsageError(`missing ${what}`);
  return value;
}

function listQuery(values: Values): string {
  const query = new URLSearchParams();
  if (values.user !== undefined) query.set('user', values.user);
  if (values.handler !== undefined) query.set('handler', values.handler);
  if (values.limit !== undefined) query.set('limit', values.limit);
  return query.toString();
}

function clientRows(answer: unknown): string {
  const rows = records(answer, 'clients').map((client) => [
    text(client.clientId),
    text(client.role),
    text(client.userId ?? client.handler),
    text(client.transport),
    text(client.address),
    text(client.connectedAt),
    text(client.subscriptions),
  ]);
  return table(
    ['CLIENT ID', 'ROLE', 'USER/HANDLER', 'TRANSPORT', 'ADDRESS', 'CONNECTED', 'SUBSCRIPTIONS'],
    rows,
  );
}

function banRows(answer: unknown): string {
  const bans = records(answer, 'bans');
  const rows = bans.map((ban) => [
    text(ban.kind),
    text(ban.value),
    text(ban.expiresAt),
    text(ban.issuedBefore),
    text(ban.reason),
  ]);
  return table(['KIND', 'VALUE', 'EXPIRES', 'ISSUED BEFORE', 'REASON'], rows);
}

async function run(
  target: AdminTarget,
  action: string,
  positionals: string[],
  values: Values,
): Promise<string> {
  const format = (answer: unknown, human: (answer: unknown) => string): string =>
    values.json === true ? json(answer) : human(answer);
  switch (action) {
    case 'clients': {
      const answer = await callAdmin(target, 'GET', `/api/clients?${listQuery(values)}`);
      const total = isRecord(answer) ? text(answer.total) : '?';
      return format(
        answer,
        (a) => `${clientRows(a)}${total} connected on node ${isRecord(a) ? text(a.node) : '?'}\n`,
      );
    }
    case 'sessions': {
      const answer = await callAdmin(target, 'GET', `/api/sessions?${listQuery(values)}`);
      const rows = records(answer, 'sessions').map((session) => [
        text(session.clientId),
        text(session.role),
        text(session.userId ?? session.handler),
        session.connected === true ? 'connected' : 'offline',
        text(session.since),
      ]);
      return format(answer, () => table(['CLIENT ID', 'ROLE', 'USER/HANDLER', 'STATE', 'SINCE'], rows));
    }
    case 'show': {
      const userId = argument(positionals, 1, 'the user id: cashew admin show <userId>');
      const answer = await callAdmin(target, 'GET', `/api/users/${encodeURIComponent(userId)}`);
      return format(answer, (a) => {
        const user = isRecord(a) ? a : {};
        return [
          `user ${userId} on node ${text(user.node)}: ${user.connected === true ? 'connected' : 'not connected'}`,
          `last seen: ${text(user.lastSeen) || 'never on this node'}`,
          `subscriptions: ${text(user.subscriptions) || '(none)'}`,
          'devices:',
          clientRows({ clients: records(a, 'devices') }).trimEnd(),
          'bans:',
          banRows({ bans: records(a, 'bans') }),
        ].join('\n');
      });
    }
    case 'kick': {
      const clientId = values['client-id'];
      if ((clientId === undefined) === (values.user === undefined))
        throw new UsageError('kick takes --client-id <id> or --user <id>');
      const body = clientId !== undefined ? { clientId } : { userId: values.user };
      const answer = await callAdmin(target, 'POST', '/api/kick', body);
      return format(
        answer,
        (a) => `kicked on every node (${isRecord(a) ? text(a.closed) : '?'} closed on this one)\n`,
      );
    }
    case 'ban': {
      const kind = kindOf(positionals[1]);
      const value = argument(positionals, 2, 'the value: cashew admin ban <kind> <value>');
      const body = {
        kind,
        value,
        ...ttlOf(values),
        ...(values.reason !== undefined && { reason: values.reason }),
      };
      const answer = await callAdmin(target, 'POST', '/api/bans', body);
      return format(
        answer,
        (a) =>
          `banned; ${isRecord(a) ? text(a.closed) : '?'} closed on this node\n${banRows({ bans: isRecord(a) ? [a.ban] : [] })}`,
      );
    }
    case 'unban': {
      const kind = kindOf(positionals[1]);
      const value = argument(positionals, 2, 'the value: cashew admin unban <kind> <value>');
      const query = new URLSearchParams({ kind, value });
      const answer = await callAdmin(target, 'DELETE', `/api/bans?${query.toString()}`);
      return format(answer, () => `unbanned ${positionals[1] ?? ''} ${value}\n`);
    }
    case 'bans':
      return format(await callAdmin(target, 'GET', '/api/bans'), banRows);
    case 'revoke': {
      const userId = argument(positionals, 1, 'the user id: cashew admin revoke <userId>');
      const answer = await callAdmin(target, 'POST', '/api/revoke', { userId, ...ttlOf(values) });
      return format(
        answer,
        (a) =>
          `revoked every token of ${userId} issued until now; ${isRecord(a) ? text(a.closed) : '?'} closed on this node\n`,
      );
    }
    default:
      throw new UsageError(`unknown admin action ${JSON.stringify(action)} (cashew admin --help lists them)`);
  }
}

export async function adminCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: FLAGS, allowPositionals: true, strict: true });
  const action = positionals[0];
  if (action === undefined) throw new UsageError('missing the action (cashew admin --help lists them)');
  const target = adminTargetFrom(values, process.env);
  process.stdout.write(await run(target, action, positionals, values));
  return 0;
}
