export {
  MAX_USER_ID_LENGTH,
  isValidUserId,
  isValidName,
  userPartitionOf,
  userTopic,
  parseUserTopic,
  commandFilter,
} from './topics.ts';
export { ERROR_CODES, CashewError, isCashewError } from './errors.ts';
export type { ErrorCode } from './errors.ts';
export {
  REPLY_SUFFIX,
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
