export { startBroker, AEDES_TUNING } from './broker.ts';
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
export type { BrokerOptions, TokenOptions, Settings, Setting, Mode, LogLevel } from './options.ts';
export { startCluster, willBoundMs, clusterNodeId, ClusterPoolCoordinator } from './cluster/index.ts';
export type { Cluster } from './cluster/index.ts';
export { parseProxyHeader, trustListOf, isTrusted, PROXY_HEADER_TIMEOUT_MS } from './proxy-protocol.ts';
export type { ProxiedAddress, HeaderParse } from './proxy-protocol.ts';
export { createTokenVerifier } from './token/verify.ts';
export type { TokenVerifier, Claims } from './token/verify.ts';
export { ALGORITHMS } from './token/algorithms.ts';
export type { Algorithm } from './token/algorithms.ts';
export {
  identityFromClaims,
  clientIdBelongsTo,
  clientIdFor,
  describeIdentity,
  ALL,
  HANDLER_CLIENT_ID_PREFIX,
} from './identity.ts';
export type { Identity, UserIdentity, HandlerIdentity, Grant } from './identity.ts';
export {
  authorizeSubscription,
  authorizePublication,
  authorizeWill,
  mayReceive,
  REPLY_LEVEL,
} from './policy.ts';
export type { Decision } from './policy.ts';
export { RETURN_CODES, SUBACK_FAILURE, REFUSED_TOPIC } from './adapter.ts';
export { WEBSOCKET_PATH } from './listeners.ts';
export type { Route } from './http.ts';
export { sendJson } from './http.ts';
export { createLogger } from './logger.ts';
export type { Logger } from './logger.ts';
export { ensureDevSecret, devSecretPath } from './dev-credentials.ts';
export { signDevToken, DEFAULT_USER_TOKEN_TTL_SEC, DEFAULT_HANDLER_TOKEN_TTL_SEC } from './token/sign.ts';
export type { TokenSubject, SignOptions } from './token/sign.ts';
