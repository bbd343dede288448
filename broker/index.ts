// `cashew`: the broker API for embedding the broker in your own process or starting one in a test.
// Internals (policy, verifier, cluster wiring, adapter) are not part of it; tests import them by path.
export { startBroker } from './broker.ts';
export type { RunningBroker, StartDependencies, Ports } from './broker.ts';
export {
  resolveOptions,
  settingsFromEnv,
  SETTINGS,
  DEFAULT_MQTTS_PORT,
  DEFAULT_WSS_PORT,
  DEFAULT_USER_CLAIM,
} from './options.ts';
export type { BrokerOptions, TokenOptions, Settings, Setting, Mode } from './options.ts';
export { createLogger } from './log/logger.ts';
export type { Logger, LogLevel } from './log/logger.ts';
export { ensureDevSecret } from './dev/dev-credentials.ts';
export {
  signDevToken,
  DEFAULT_USER_TOKEN_TTL_SEC,
  DEFAULT_HANDLER_TOKEN_TTL_SEC,
} from './dev/sign-dev-token.ts';
export type { TokenSubject, SignOptions } from './dev/sign-dev-token.ts';
export { CashewError, isCashewError, ERROR_CODES } from '../protocol/index.ts';
export type { ErrorCode } from '../protocol/index.ts';
