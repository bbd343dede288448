// What a CONNECT must pass once its token is verified, before aedes registers the client: the client
// id bound to the identity, the user's connections across the cluster (MAX_CONNECTIONS_PER_USER), and
// a declared will inside what the identity may publish. Each refusal is a CashewError whose code the
// adapter turns into the CONNACK return code.
import type { Client } from 'aedes';
import { CashewError } from '../../protocol/index.ts';
import { clientIdBelongsTo, describeIdentity, type Identity } from '../auth/identity.ts';
import type { ConnectGate } from '../limits/connect-gate.ts';
import { authorizeWill } from '../policy/policy.ts';
import { declaredWill } from './client-internals.ts';
import type { ClientLimits } from './client-limits.ts';

/** Resolves when `client` may be admitted as `identity`; rejects with the refusal otherwise. */
export async function admitIdentity(
  client: Client,
  identity: Identity,
  gate: ConnectGate,
  limits: ClientLimits,
): Promise<void> {
  const clientId = client.id;
  if (!clientIdBelongsTo(identity, clientId)) {
    throw new CashewError(
      'ERR_CLIENT_ID_MISMATCH',
      `client id ${clientId} is not bound to ${describeIdentity(identity)}`,
    );
  }
  if (identity.role === 'user') {
    const refusal = await gate.admitUser(identity.userId);
    if (refusal !== undefined) throw new CashewError(refusal.code, refusal.reason);
  }
  const will = declaredWill(client);
  if (will !== undefined) {
    const tooLong = limits.topic(will.topic);
    if (tooLong !== undefined) throw new CashewError(tooLong.code, `will topic: ${tooLong.reason}`);
    const decision = authorizeWill(identity, will.topic);
    if (!decision.allowed)
      throw new CashewError('ERR_WILL_NOT_AUTHORIZED', `will on ${will.topic}: ${decision.reason}`);
  }
}
