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
