// The one place where the pure policy becomes aedes callbacks, and error codes become MQTT return
// codes. It decides nothing itself: every rule is in broker/policy/policy.ts, every read of an aedes
// internal in a *-internals.ts module beside it, what a CONNECT must pass once verified in
// admission.ts, what is held per client in client-lifecycle.ts and client-limits.ts.
import type {
  AedesOptions,
  AedesPublishPacket,
  Aedes,
  AuthenticateError,
  Client,
  PublishPacket,
} from 'aedes';
import { CashewError, isPresenceTopic, type ErrorCode } from '../../protocol/index.ts';
import { auditRefusal, type AuditAction } from '../log/audit.ts';
import type { HandlerPools } from '../pools/handler-pools.ts';
import { describeIdentity, type Identity } from '../auth/identity.ts';
import type { ConnectGate } from '../limits/connect-gate.ts';
import { reserveRetainedRoom, type RetainedQuota } from '../limits/retained-quota.ts';
import type { Logger } from '../log/logger.ts';
import {
  authorizeDelivery,
  authorizeOrphanWill,
  authorizePublication,
  authorizeSubscription,
  isTokenRefresh,
  NOT_AUTHENTICATED,
  type Decision,
} from '../policy/policy.ts';
import type { TokenVerifier } from '../auth/verify.ts';
import { admitIdentity } from './admission.ts';
import { remoteAddressOf } from './client-internals.ts';
import { ClientLimits, type ClientLimitsOptions } from './client-limits.ts';
import { ClientLifecycle, type ClientObserver, type Registrations } from './client-lifecycle.ts';
import { publisherIdOf } from './packet-internals.ts';
import { REFUSED_TOPIC, returnCodeOf, SUBACK_FAILURE } from './return-codes.ts';
import { TokenRefresh } from './token-refresh.ts';

export interface AdapterContext extends ClientLimitsOptions {
  readonly verifier: TokenVerifier;
  readonly logger: Logger;
  readonly pools: HandlerPools;
  readonly gate: ConnectGate;
  /** Retained messages per partition: the persistence's own index (memory or Redis). */
  readonly retained: RetainedQuota;
  /** Told of every admitted client and its release (presence, the connection log). */
  readonly observers?: readonly ClientObserver[];
  /** Least time between two in-band token refreshes of one connection, ms. */
  readonly tokenRefreshIntervalMs: number;
  /**
   * What sessions and messages are shared through (Redis, in cluster mode): while it cannot serve,
   * every CONNECT is refused at once with CONNACK 3, before the gate counts it or a token is checked.
   */
  readonly backend?: { unavailable(): string | undefined };
  /** Bans and revocations, checked once the token is verified (broker/bans/ban-guard.ts). */
  readonly bans?: { admit(client: Client, identity: Identity): void };
}

export type AedesHooks = Required<
  Pick<
    AedesOptions,
    'preConnect' | 'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward'
  >
>;

export interface Adapter {
  readonly hooks: AedesHooks;
  /** Wires the client lifecycle (pools, expiry timers) to aedes' `client`/`clientDisconnect` events. */
  attach(aedes: Aedes): void;
  identityOf(client: Client): Identity | undefined;
  /** What is registered for connected clients right now (for metrics and tests). */
  registrations(): Registrations;
}

export function createAdapter(context: AdapterContext): Adapter {
  const { verifier, logger, pools, gate, retained, backend } = context;
  const limits = new ClientLimits(context, (client, clientId, over) =>
    refuse('limit', client, lifecycle.identityOf(client), over.code, over.reason, { clientId }),
  );

  function refuse(
    action: AuditAction,
    client: Client | null,
    identity: Identity | undefined,
    code: ErrorCode,
    reason: string,
    extra: { topic?: string; returnCode?: number; clientId?: string } = {},
  ): void {
    auditRefusal(logger, {
      action,
      identity: identity === undefined ? 'unknown' : describeIdentity(identity),
      clientId: client?.id ?? null,
      code,
      reason,
      ...extra,
      ...(client !== null && { address: remoteAddressOf(client) }),
    });
  }

  const lifecycle = new ClientLifecycle({
    pools,
    gate,
    ...(context.observers !== undefined && { observers: context.observers }),
    onExpired: (client, identity) => {
      refuse('expire', client, identity, 'ERR_TOKEN_EXPIRED_SESSION', 'token expired');
      client.close();
    },
  });

  const refresh = new TokenRefresh({
    verifier,
    logger,
    lifecycle,
    intervalMs: context.tokenRefreshIntervalMs,
    refuse,
    ...(context.bans !== undefined && { bans: context.bans }),
  });

  // Called synchronously with the CONNECT: from here on, every SUBSCRIBE is seen before aedes handles it
  // (one sent with the CONNECT arrives before aedes sets client.id: the CONNECT's id is audited).
  const preConnect: AedesHooks['preConnect'] = (client, packet, done) => {
    limits.screenSubscribes(client, packet.clientId);
    done(null, true);
  };

  /** A refused CONNECT: audited, and answered with the CONNACK return code of its error code. */
  function refuseConnect(
    action: AuditAction,
    client: Client,
    identity: Identity | undefined,
    code: ErrorCode,
    reason: string,
    done: (error: AuthenticateError, success: false) => void,
  ): void {
    const returnCode = returnCodeOf(code);
    refuse(action, client, identity, code, reason, { returnCode });
    done(Object.assign(new Error(reason), { returnCode }), false);
  }

  const authenticate: AedesHooks['authenticate'] = (client, _username, password, done) => {
    // Redis away: nothing of this CONNECT could be served, and its commands would wait for ever. Not
    // counted by the gate, so that a fleet retrying through an outage is not taken for flapping.
    const away = backend?.unavailable();
    if (away !== undefined)
      return refuseConnect('connect', client, undefined, 'ERR_REDIS_UNAVAILABLE', away, done);
    // Before any signature is checked: the source address' rate, flapping, the total.
    const early = gate.admitConnect(remoteAddressOf(client), client.id, Date.now());
    if (early !== undefined) return refuseConnect('limit', client, undefined, early.code, early.reason, done);
    let identity: Identity | undefined;
    verifier
      .verify(password === undefined ? '' : password.toString('utf8'))
      .then(async (verified) => {
        identity = verified;
        await admitIdentity(client, verified, gate, limits);
        context.bans?.admit(client, verified);
        // aedes ignores the answer for a client that closed meanwhile: nothing is remembered for it.
        // Otherwise only the identity is, in a WeakMap; the pool and the expiry timer wait for aedes
        // to register the client (client-lifecycle.ts).
        if (!client.closed) lifecycle.verified(client, verified);
        logger.debug({ clientId: client.id, identity: describeIdentity(verified) }, 'client authenticated');
        done(null, true);
      })
      .catch((error: unknown) => {
        const cashew =
          error instanceof CashewError
            ? error
            : new CashewError('ERR_TOKEN_MALFORMED', undefined, { cause: error });
        const action = cashew.code === 'ERR_WILL_NOT_AUTHORIZED' ? 'will' : 'connect';
        refuseConnect(action, client, identity, cashew.code, cashew.message, done);
      });
  };

  const authorizeSubscribe: AedesHooks['authorizeSubscribe'] = (client, subscription, done) => {
    const identity = lifecycle.identityOf(client);
    const filter = subscription.topic;
    const limit = limits.subscription(client, filter);
    const decision: Decision =
      limit !== undefined
        ? { allowed: false, reason: limit.reason }
        : identity === undefined
          ? NOT_AUTHENTICATED
          : authorizeSubscription(identity, filter);
    if (decision.allowed) limits.granted(client, filter);
    else {
      const code = limit?.code ?? 'ERR_SUBSCRIBE_NOT_AUTHORIZED';
      refuse(limit === undefined ? 'subscribe' : 'limit', client, identity, code, decision.reason, {
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

  const authorizePublish: AedesHooks['authorizePublish'] = (client, packet, done) => {
    // A token refresh is the broker's to answer; the token in it reaches nobody and nothing stores it.
    // It counts against the publish rate like any PUBLISH (its own interval bounds the verifications).
    if (client !== null && isTokenRefresh(packet.topic)) {
      const identity = lifecycle.identityOf(client);
      const over = identity === undefined ? undefined : limits.publication(client, identity.role);
      if (over === undefined) refresh.handle(client, Buffer.from(packet.payload));
      else if (over.disconnect !== true || limits.cut(client))
        refuse('limit', client, identity, over.code, over.reason, { topic: packet.topic });
      return dropPublication(packet, done);
    }
    // A will of a client that died on another node arrives with no client, judged by its client id.
    const identity = client === null ? undefined : lifecycle.identityOf(client);
    const tooLong = limits.topic(packet.topic);
    const decision: Decision =
      tooLong !== undefined
        ? { allowed: false, reason: tooLong.reason }
        : client === null
          ? authorizeOrphanWill(publisherIdOf(packet), packet.topic)
          : identity === undefined
            ? NOT_AUTHENTICATED
            : authorizePublication(identity, packet.topic);
    if (decision.allowed) {
      const over =
        client === null || identity === undefined ? undefined : limits.publication(client, identity.role);
      if (over === undefined) {
        // A retained message must fit its partition; the room is reserved as it is granted.
        const room = reserveRetainedRoom(retained, packet);
        if (room === undefined) return done(null);
        return void room.then((full) => {
          if (full === undefined) return done(null);
          refuse('limit', client, identity, full.code, full.reason, { topic: packet.topic });
          dropPublication(packet, done);
        });
      }
      if (client !== null && (over.disconnect !== true || limits.cut(client)))
        refuse('limit', client, identity, over.code, over.reason, { topic: packet.topic });
      return dropPublication(packet, done);
    }
    refuse(
      client === null ? 'will' : 'publish',
      client,
      identity,
      tooLong?.code ?? 'ERR_PUBLISH_NOT_AUTHORIZED',
      decision.reason,
      { topic: packet.topic },
    );
    dropPublication(packet, done);
  };

  /** Acknowledge and drop: the connection stays up and nothing of the message reaches anyone. */
  function dropPublication(packet: PublishPacket, done: (error: Error | null) => void): void {
    packet.topic = REFUSED_TOPIC;
    packet.retain = false;
    packet.payload = Buffer.alloc(0);
    done(null);
  }

  const authorizeForward: AedesHooks['authorizeForward'] = (client, packet: AedesPublishPacket) => {
    const identity = lifecycle.identityOf(client);
    if (identity === undefined) return null;
    const slow = limits.backlog(client);
    if (slow !== undefined && limits.cut(client)) refuse('limit', client, identity, slow.code, slow.reason);
    const decision = authorizeDelivery(identity, {
      topic: packet.topic,
      retain: packet.retain,
      publisherId: publisherIdOf(packet),
    });
    if (decision.allowed) {
      // A presence event goes to every presence-granted handler connection, each keeping its own view.
      if (identity.role === 'user' || isPresenceTopic(packet.topic)) return packet;
      // A command for a handler: one member of its pool serves it.
      const filter = `+/${packet.topic.slice(packet.topic.indexOf('/') + 1)}`;
      return pools.route(identity.name, client, packet, filter);
    }
    if (decision.routine !== true)
      refuse('forward', client, identity, 'ERR_SUBSCRIBE_NOT_AUTHORIZED', decision.reason, {
        topic: packet.topic,
      });
    return null;
  };

  return {
    hooks: { preConnect, authenticate, authorizeSubscribe, authorizePublish, authorizeForward },
    attach: (aedes) => {
      lifecycle.attach(aedes);
      aedes.on('unsubscribe', (filters, client) => limits.unsubscribed(client, filters));
    },
    identityOf: (client) => lifecycle.identityOf(client),
    registrations: () => lifecycle.registrations(),
  };
}
