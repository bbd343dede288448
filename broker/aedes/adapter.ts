// The one place where the pure policy becomes aedes callbacks, and error codes become MQTT return codes.
import type { AedesOptions, AedesPublishPacket, AuthenticateError, Client, PublishPacket } from 'aedes';
import {
  CashewError,
  HANDLER_CLIENT_ID_PREFIX,
  isValidUserId,
  type ErrorCode,
} from '../../protocol/index.ts';
import { auditRefusal, type AuditAction } from '../log/audit.ts';
import type { HandlerPools } from '../pools/handler-pools.ts';
import { clientIdBelongsTo, describeIdentity, identityFromClaims, type Identity } from '../auth/identity.ts';
import type { Logger } from '../log/logger.ts';
import type { TokenOptions } from '../options.ts';
import { authorizePublication, authorizeSubscription, authorizeWill, mayReceive } from '../policy/policy.ts';
import type { TokenVerifier } from '../auth/verify.ts';

/** MQTT 3.1.1 CONNACK return codes. */
export const RETURN_CODES = {
  IDENTIFIER_REJECTED: 2,
  SERVER_UNAVAILABLE: 3,
  BAD_USERNAME_OR_PASSWORD: 4,
  NOT_AUTHORIZED: 5,
} as const;
export const SUBACK_FAILURE = 0x80;

/** A refused publish is acknowledged (MQTT-3.3.5-2) and re-routed here, where nobody can subscribe. */
export const REFUSED_TOPIC = '$cashew/refused';

/** The longest a single timer may run in Node (about 24.8 days); longer expiries re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function returnCodeOf(code: ErrorCode): number {
  switch (code) {
    case 'ERR_TOKEN_MISSING':
      return RETURN_CODES.BAD_USERNAME_OR_PASSWORD;
    case 'ERR_CLIENT_ID_MISMATCH':
      return RETURN_CODES.IDENTIFIER_REJECTED;
    case 'ERR_JWKS_UNAVAILABLE':
      return RETURN_CODES.SERVER_UNAVAILABLE;
    default:
      return RETURN_CODES.NOT_AUTHORIZED;
  }
}

/** Whether a handler published this message (aedes stamps the publisher's client id on it). */
function sentByHandler(packet: AedesPublishPacket): boolean {
  const clientId = (packet as { clientId?: unknown }).clientId;
  return typeof clientId === 'string' && clientId.startsWith(HANDLER_CLIENT_ID_PREFIX);
}

function addressOf(client: Client): string | undefined {
  const socket = client.req?.socket ?? (client.conn as { remoteAddress?: string });
  return socket.remoteAddress;
}

export interface AdapterContext {
  readonly verifier: TokenVerifier;
  readonly token: TokenOptions;
  readonly logger: Logger;
  readonly pools: HandlerPools;
}

export type AedesHooks = Required<
  Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward'>
>;

export interface Adapter {
  readonly hooks: AedesHooks;
  identityOf(client: Client): Identity | undefined;
  /** Wire to aedes' `clientDisconnect`: forgets the identity and its expiry timer. */
  forget(client: Client): void;
}

export function createAdapter(context: AdapterContext): Adapter {
  const { verifier, token, logger, pools } = context;
  const identities = new WeakMap<Client, Identity>();
  const expiryTimers = new WeakMap<Client, NodeJS.Timeout>();

  function refuse(
    action: AuditAction,
    client: Client | null,
    identity: Identity | undefined,
    code: ErrorCode,
    reason: string,
    extra: { topic?: string; returnCode?: number } = {},
  ): void {
    auditRefusal(logger, {
      action,
      identity: identity === undefined ? 'unknown' : describeIdentity(identity),
      clientId: client?.id ?? null,
      code,
      reason,
      ...extra,
      ...(client !== null && { address: addressOf(client) }),
    });
  }

  function armExpiry(client: Client, identity: Identity): void {
    const delay = identity.expiresAt - Date.now();
    const timer = setTimeout(
      () => {
        if (identity.expiresAt > Date.now()) return armExpiry(client, identity);
        refuse('expire', client, identity, 'ERR_TOKEN_EXPIRED_SESSION', 'token expired');
        client.close();
      },
      Math.min(Math.max(delay, 0), MAX_TIMER_MS),
    );
    timer.unref();
    expiryTimers.set(client, timer);
  }

  function admit(client: Client, identity: Identity): void {
    const clientId = client.id;
    if (!clientIdBelongsTo(identity, clientId)) {
      throw new CashewError(
        'ERR_CLIENT_ID_MISMATCH',
        `client id ${clientId} is not bound to ${describeIdentity(identity)}`,
      );
    }
    const will = (client as unknown as { _will?: PublishPacket | null })._will;
    if (will) {
      const decision = authorizeWill(identity, will.topic);
      if (!decision.allowed)
        throw new CashewError('ERR_WILL_NOT_AUTHORIZED', `will on ${will.topic}: ${decision.reason}`);
    }
  }

  const authenticate: AedesHooks['authenticate'] = (client, _username, password, done) => {
    let identity: Identity | undefined;
    verifier
      .verify(password === undefined ? '' : password.toString('utf8'))
      .then((claims) => {
        identity = identityFromClaims(claims, token.userClaim, token.clockToleranceSec);
        admit(client, identity);
        identities.set(client, identity);
        if (identity.role === 'handler') pools.join(identity.name, client);
        armExpiry(client, identity);
        logger.debug({ clientId: client.id, identity: describeIdentity(identity) }, 'client authenticated');
        done(null, true);
      })
      .catch((error: unknown) => {
        const cashew =
          error instanceof CashewError
            ? error
            : new CashewError('ERR_TOKEN_MALFORMED', undefined, { cause: error });
        const returnCode = returnCodeOf(cashew.code);
        const action = cashew.code === 'ERR_WILL_NOT_AUTHORIZED' ? 'will' : 'connect';
        refuse(action, client, identity, cashew.code, cashew.message, { returnCode });
        const refusal: AuthenticateError = Object.assign(new Error(cashew.message), { returnCode });
        done(refusal, false);
      });
  };

  const authorizeSubscribe: AedesHooks['authorizeSubscribe'] = (client, subscription, done) => {
    const identity = identities.get(client);
    const decision =
      identity === undefined
        ? { allowed: false as const, reason: 'not authenticated' }
        : authorizeSubscription(identity, subscription.topic);
    if (!decision.allowed) {
      refuse('subscribe', client, identity, 'ERR_SUBSCRIBE_NOT_AUTHORIZED', decision.reason, {
        topic: subscription.topic,
        returnCode: SUBACK_FAILURE,
      });
      // aedes stores the whole SUBSCRIBE of a persistent session, denied filters included, and would
      // queue every QoS>0 message they match while the client is offline. Stored as QoS 0, a denied
      // filter stays out of the offline queue (authorizeForward still re-checks every delivery).
      subscription.qos = 0;
    }
    // Answered on the next tick, so every filter of the packet is judged (and marked) before aedes
    // stores the packet, which it does as soon as the first filter is granted.
    // An error here would disconnect the client; a null subscription is a SUBACK 0x80.
    const granted = decision.allowed ? subscription : null;
    process.nextTick(() => done(null, granted));
  };

  /** Wills of clients that died on another node arrive with `client = null`: judged by their client id. */
  function authorizeOrphanWill(packet: PublishPacket & { clientId?: string }): boolean {
    const clientId = packet.clientId ?? '';
    if (clientId.startsWith(HANDLER_CLIENT_ID_PREFIX)) return true; // checked when declared, stored only then
    const userId = clientId.split('/')[0];
    return isValidUserId(userId) && (packet.topic === userId || packet.topic.startsWith(`${userId}/`));
  }

  const authorizePublish: AedesHooks['authorizePublish'] = (client, packet, done) => {
    const identity = client === null ? undefined : identities.get(client);
    let reason: string | undefined;
    if (client === null) {
      if (!authorizeOrphanWill(packet)) reason = 'orphan will outside its partition';
    } else if (identity === undefined) {
      reason = 'not authenticated';
    } else {
      const decision = authorizePublication(identity, packet.topic);
      if (!decision.allowed) reason = decision.reason;
    }
    if (reason === undefined) return done(null);
    refuse(client === null ? 'will' : 'publish', client, identity, 'ERR_PUBLISH_NOT_AUTHORIZED', reason, {
      topic: packet.topic,
    });
    // Acknowledge and drop: the connection stays up and nothing of the message reaches anyone.
    packet.topic = REFUSED_TOPIC;
    packet.retain = false;
    packet.payload = Buffer.alloc(0);
    done(null);
  };

  const authorizeForward: AedesHooks['authorizeForward'] = (client, packet: AedesPublishPacket) => {
    const identity = identities.get(client);
    if (identity === undefined) return null;
    let reason = 'message outside what the identity may receive';
    if (identity.role === 'user') {
      if (mayReceive(identity, packet.topic)) return packet;
    } else if (mayReceive(identity, packet.topic)) {
      // A command's sender is its topic's first level, verified for users only: a handler's event
      // that shares a command's name is not that user's command.
      // A retained message is state, not a command: replayed to every handler (and every new pool
      // member) that subscribes, it would be served again and again.
      if (packet.retain) return null;
      if (!sentByHandler(packet)) {
        const filter = `+/${packet.topic.slice(packet.topic.indexOf('/') + 1)}`;
        return pools.route(identity.name, client, packet, filter);
      }
      reason = 'a handler publication is not a user command';
    }
    refuse('forward', client, identity, 'ERR_SUBSCRIBE_NOT_AUTHORIZED', reason, { topic: packet.topic });
    return null;
  };

  function forget(client: Client): void {
    const identity = identities.get(client);
    if (identity?.role === 'handler') pools.leave(identity.name, client);
    clearTimeout(expiryTimers.get(client));
    expiryTimers.delete(client);
    identities.delete(client);
  }

  return {
    hooks: { authenticate, authorizeSubscribe, authorizePublish, authorizeForward },
    identityOf: (client) => identities.get(client),
    forget,
  };
}
