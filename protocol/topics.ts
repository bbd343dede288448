// The topic grammar shared by the broker, the handler runtime and the client SDK.
// Per-user topics are `<userId>/<name>`; the first level is the user's partition.

/** Characters that may never appear in a user id: they would let one id address another's partition. */
// eslint-disable-next-line no-control-regex -- NUL is exactly what must be refused
const FORBIDDEN_IN_ID = /[/+#$\u0000]/;

/** Command and event names: lower-case words, digits, `_` and `-` (`get_apples`, `contact_requested`). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export const MAX_USER_ID_LENGTH = 128;

/** Handlers' client ids start with this, then the handler's name: `$handler/<name>/<suffix>`. */
export const HANDLER_CLIENT_ID_PREFIX = '$handler/';

/** The level appended to a command topic for its replies: `<userId>/<command>/reply`. */
export const REPLY_LEVEL = 'reply';

/** In a handler's token, the explicit grant of every command or event (`"commands": ["*"]`). */
export const GRANT_ALL = '*';

/** A user id can stand as the first topic level: not empty, no separator, wildcard, `$` or NUL. */
export function isValidUserId(id: unknown): id is string {
  return (
    typeof id === 'string' && id.length > 0 && id.length <= MAX_USER_ID_LENGTH && !FORBIDDEN_IN_ID.test(id)
  );
}

/** A command or event name is one plain topic level. */
export function isValidName(name: unknown): name is string {
  return typeof name === 'string' && NAME.test(name);
}

/** The first level of a topic (its partition), e.g. `68946` for `68946/get_apples`. */
export function userPartitionOf(topic: string): string {
  const slash = topic.indexOf('/');
  return slash === -1 ? topic : topic.slice(0, slash);
}

/** The topic a user publishes a command on, or receives an event on: `<userId>/<name>`. */
export function userTopic(userId: string, name: string): string {
  return `${userId}/${name}`;
}

/** Splits `<userId>/<name>` into its two levels; undefined when the topic has another shape. */
export function parseUserTopic(topic: string): { userId: string; name: string } | undefined {
  const slash = topic.indexOf('/');
  if (slash <= 0 || topic.indexOf('/', slash + 1) !== -1) return undefined;
  const userId = topic.slice(0, slash);
  const name = topic.slice(slash + 1);
  return isValidUserId(userId) && isValidName(name) ? { userId, name } : undefined;
}

/** The filter a handler subscribes to for one command it serves: `+/<command>`. */
export function commandFilter(command: string): string {
  return `+/${command}`;
}
