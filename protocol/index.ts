export {
  MAX_USER_ID_LENGTH,
  HANDLER_CLIENT_ID_PREFIX,
  REPLY_LEVEL,
  GRANT_ALL,
  isValidUserId,
  isValidName,
  userPartitionOf,
  userTopic,
  parseUserTopic,
  commandFilter,
} from './topics.ts';
export { isRecord } from './guards.ts';
export { withTimeout } from './timeout.ts';
export { ERROR_CODES, CashewError, isCashewError } from './errors.ts';
export type { ErrorCode } from './errors.ts';
export {
  replyTopic,
  replyFilter,
  encodeCommand,
  decodeCommand,
  encodeReply,
  decodeReply,
  decodeEvent,
  isCatalogueCode,
  HandlerError,
} from './envelope.ts';
export type { CommandEnvelope, ReplyEnvelope, WireError, Payload } from './envelope.ts';
export {
  PRESENCE_TOPIC_PREFIX,
  PRESENCE_FILTER,
  PRESENCE_EVENT,
  presenceTopic,
  isPresenceTopic,
  presenceUserOf,
  isPresenceEvent,
  encodePresence,
  decodePresence,
} from './presence.ts';
export type { PresenceEvent } from './presence.ts';
export {
  TOKEN_REFRESH_TOPIC,
  TOKEN_REFRESH_REPLY_TOPIC,
  encodeRefreshRequest,
  decodeRefreshRequest,
  encodeRefreshReply,
  decodeRefreshReply,
  refreshError,
  PERMANENT_REFRESH_CODES,
} from './token-refresh.ts';
export type { TokenRefreshRequest, TokenRefreshReply } from './token-refresh.ts';
