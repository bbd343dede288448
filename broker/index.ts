export { startBroker } from './broker.ts';
export { AEDES_TUNING } from './aedes/tuning.ts';
export type { RunningBroker, StartDependencies, Ports } from './broker.ts';
export {
  resolveOptions,
  settingsFromEnv,
  SETTINGS,
  DEFAULT_MQTTS_PORT,
  DEFAULT_WSS_PORT,
  DEFAULT_USER_CLAIM,
  DEFAULT_CLUSTER_HEARTBEAT_MS,
} from './options.ts';
export type { BrokerOptions, TokenOptions, Settings, Setting, Mode } from './options.ts';
export type { LogLevel } from './log/logger.ts';
export { startCluster, willBoundMs, clusterNodeId, ClusterPoolCoordinator } from './cluster/index.ts';
export type { Cluster } from './cluster/index.ts';
export { parseProxyHeader, trustListOf, isTrusted, PROXY_HEADER_TIMEOUT_MS } from './net/proxy-protocol.ts';
export type { ProxiedAddress, HeaderParse } from './net/proxy-protocol.ts';
export { createTokenVerifier } from './auth/verify.ts';
export type { TokenVerifier, Claims } from './auth/verify.ts';
export { ALGORITHMS } from './auth/algorithms.ts';
export type { Algorithm } from './auth/algorithms.ts';
export { identityFromClaims, clientIdBelongsTo, clientIdFor, describeIdentity } from './auth/identity.ts';
export type { Identity, UserIdentity, HandlerIdentity, Grant } from './auth/identity.ts';
export { authorizeSubscription, authorizePublication, authorizeWill, mayReceive } from './policy/policy.ts';
export type { Decision } from './policy/policy.ts';
export { RETURN_CODES, SUBACK_FAILURE, REFUSED_TOPIC } from './aedes/return-codes.ts';
export { WEBSOCKET_PATH } from './net/listeners.ts';
export type { Route } from './http/routes.ts';
export { sendJson } from './http/routes.ts';
export { createLogger } from './log/logger.ts';
export type { Logger } from './log/logger.ts';
export { ensureDevSecret, devSecretPath } from './dev/dev-credentials.ts';
export {
  signDevToken,
  DEFAULT_USER_TOKEN_TTL_SEC,
  DEFAULT_HANDLER_TOKEN_TTL_SEC,
} from './dev/sign-dev-token.ts';
export type { TokenSubject, SignOptions } from './dev/sign-dev-token.ts';
