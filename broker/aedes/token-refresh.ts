// The in-band token refresh (docs/protocol.md#token-refresh): a connected client PUBLISHes a new token
// on `$cashew/refresh`; it is verified like a CONNECT's, must stand for the same identity
// (policy.ts, authorizeTokenRefresh), and then replaces the connection's identity and moves its expiry
// (client-lifecycle.ts). A handler whose grants shrank loses the subscriptions no longer granted (and
// with them its place in those commands' pool rotation). The answer goes to that connection alone. A
// refusal changes nothing — the old expiry stays in force — and is audited. Runs on the node that holds
// the connection: nothing crosses the cluster.
import type { Client } from 'aedes';
import {
  CashewError,
  decodeRefreshRequest,
  encodeRefreshReply,
  TOKEN_REFRESH_REPLY_TOPIC,
  type ErrorCode,
  type TokenRefreshReply,
} from '../../protocol/index.ts';
import { describeIdentity, type Identity } from '../auth/identity.ts';
import type { TokenVerifier } from '../auth/verify.ts';
import type { AuditAction } from '../log/audit.ts';
import type { Logger } from '../log/logger.ts';
import { countTokenRefresh } from '../metrics/external.ts';
import { authorizeSubscription, authorizeTokenRefresh } from '../policy/policy.ts';
import { subscribedFilters } from './client-internals.ts';
import type { ClientLifecycle } from './client-lifecycle.ts';
import { dropSubscriptions, writeToClient } from './session-internals.ts';

export interface TokenRefreshOptions {
  readonly verifier: TokenVerifier;
  readonly logger: Logger;
  readonly lifecycle: ClientLifecycle;
  /** Least time between two refreshes of one connection (TOKEN_REFRESH_INTERVAL_MS). */
  readonly intervalMs: number;
  /** Bans and revocations: a refreshed token is held to them as a CONNECT's is (throws when banned). */
  readonly bans?: { admit(client: Client, identity: Identity): void };
  /** Writes the audit line of a refusal (the adapter's `refuse`). */
  readonly refuse: (
    action: AuditAction,
    client: Client,
    identity: Identity | undefined,
    code: ErrorCode,
    reason: string,
  ) => void;
}

export class TokenRefresh {
  readonly #options: TokenRefreshOptions;
  /** When each connection last asked, ms: the rate is per connection and goes with it. */
  readonly #lastAsked = new WeakMap<Client, number>();
  /** Connections whose refresh is being verified: one at a time each. */
  readonly #verifying = new WeakSet<Client>();

  constructor(options: TokenRefreshOptions) {
    this.#options = options;
  }

  /** Handles a PUBLISH on the refresh topic; answers the client, never throws. */
  handle(client: Client, payload: Buffer): void {
    const { lifecycle, intervalMs } = this.#options;
    const identity = lifecycle.identityOf(client);
    if (identity === undefined) return;
    const now = Date.now();
    const last = this.#lastAsked.get(client);
    if (this.#verifying.has(client) || (last !== undefined && now - last < intervalMs)) {
      const reason = `one refresh per ${intervalMs} ms`;
      this.#options.refuse('limit', client, identity, 'ERR_REFRESH_RATE', reason);
      void this.#answer(client, {
        id: idOf(payload),
        ok: false,
        error: { code: 'ERR_REFRESH_RATE', message: reason },
      });
      return;
    }
    this.#lastAsked.set(client, now);
    this.#verifying.add(client);
    void this.#refresh(client, identity, payload).finally(() => this.#verifying.delete(client));
  }

  async #refresh(client: Client, current: Identity, payload: Buffer): Promise<void> {
    const { verifier, lifecycle, logger } = this.#options;
    let id = '';
    let next: Identity | undefined;
    try {
      const request = decodeRefreshRequest(payload);
      id = request.id;
      // The same verification as at CONNECT: key source by role (handler trust), claims, identity.
      const verified = await verifier.verify(request.token);
      next = verified;
      const decision = authorizeTokenRefresh(current, verified);
      if (!decision.allowed) throw new CashewError(decision.code, decision.reason);
      this.#options.bans?.admit(client, verified);
      const revoked = subscribedFilters(client).filter(
        (filter) => !authorizeSubscription(verified, filter).allowed,
      );
      // Should the session store fail, the refresh still holds: every delivery is re-checked against
      // the new grants (authorizeForward), so a revoked filter left behind delivers nothing.
      await dropSubscriptions(client, revoked).catch((error: unknown) =>
        logger.warn(
          { clientId: client.id, filters: revoked, err: String(error) },
          'revoked subscriptions not removed',
        ),
      );
      if (!lifecycle.refreshed(client, verified)) return;
      logger.info(
        {
          audit: 'accepted',
          action: 'refresh',
          identity: describeIdentity(verified),
          clientId: client.id,
          expiresAt: verified.expiresAt,
          previousExpiresAt: current.expiresAt,
          ...(revoked.length > 0 && { unsubscribed: revoked }),
        },
        'token refreshed',
      );
      countTokenRefresh(logger, 'accepted');
      await this.#answer(client, { id, ok: true, expiresAt: verified.expiresAt });
    } catch (error) {
      const cashew =
        error instanceof CashewError
          ? error
          : new CashewError('ERR_TOKEN_MALFORMED', undefined, { cause: error });
      const reason = next === undefined ? cashew.message : `${cashew.message} (${describeIdentity(next)})`;
      this.#options.refuse('refresh', client, current, cashew.code, reason);
      countTokenRefresh(this.#options.logger, 'refused');
      await this.#answer(client, { id, ok: false, error: { code: cashew.code, message: cashew.message } });
    }
  }

  async #answer(client: Client, reply: TokenRefreshReply): Promise<void> {
    if (!client.closed) await writeToClient(client, TOKEN_REFRESH_REPLY_TOPIC, encodeRefreshReply(reply));
  }
}

/** The request id of a payload that may not be a valid request (for the answer to a refused one). */
function idOf(payload: Buffer): string {
  try {
    return decodeRefreshRequest(payload).id;
  } catch {
    return '';
  }
}
