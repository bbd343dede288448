// `cashew token`: sign a dev token for a user or a handler with JWT_SECRET or the dev secret.
// A grant is explicit: a handler token names the commands it serves; contradictory or empty grants are
// refused as usage errors (exit 2) rather than signed.
import { parseArgs } from 'node:util';
import { ensureDevSecret } from '../broker/dev/dev-credentials.ts';
import { signDevToken, type TokenSubject } from '../broker/dev/sign-dev-token.ts';
import { resolveOptions } from '../broker/options.ts';
import { CashewError, isValidName, isValidUserId } from '../protocol/index.ts';
import { SETTING_FLAGS, settingsFrom } from './settings.ts';
import { UsageError } from './usage-error.ts';

export const USAGE = `usage: cashew token --user <userId> [--ttl <seconds>]
       cashew token --handler <name> --commands a,b [--events c,d] [--presence] [--ttl <seconds>]
Signs an HS256 dev token with JWT_SECRET (or the dev secret in CERTS_DIR) and prints it.
  --user <userId>     a device of this user (valid 1 hour)
  --handler <name>    a handler process (valid 30 days) serving --commands, emitting --events;
                      '*' grants every command or event (explicit wildcard)
  --presence          the handler also receives users' presence events
  --ttl <seconds>     lifetime instead of the default
Refused (exit 2): neither or both of --user and --handler, --commands/--events with --user,
a handler with no command (and no --presence), --presence with --user.`;

function names(list: string | undefined, flag: string): string[] {
  const items = (list ?? '').split(',').filter((item) => item !== '');
  for (const item of items) {
    if (item !== '*' && !isValidName(item)) throw new UsageError(`--${flag}: invalid name ${String(item)}`);
  }
  return items;
}

interface SubjectFlags {
  readonly user?: string | undefined;
  readonly handler?: string | undefined;
  readonly commands?: string | undefined;
  readonly events?: string | undefined;
  readonly presence?: boolean | undefined;
}

/** The token's subject from the flags, or a UsageError naming what does not fit. */
export function subjectFrom(flags: SubjectFlags): TokenSubject {
  if (flags.user !== undefined && flags.handler !== undefined)
    throw new UsageError('--user and --handler exclude each other: a token is for a user or a handler');
  if (flags.user !== undefined) {
    if (flags.commands !== undefined || flags.events !== undefined || flags.presence === true)
      throw new UsageError(
        '--commands, --events and --presence are grants of a handler token, not of a user token',
      );
    if (!isValidUserId(flags.user))
      throw new UsageError(`--user: invalid user id ${JSON.stringify(flags.user)}`);
    return { user: flags.user };
  }
  if (flags.handler !== undefined) {
    if (!isValidName(flags.handler))
      throw new UsageError(`--handler: invalid name ${JSON.stringify(flags.handler)}`);
    const commands = names(flags.commands, 'commands');
    const presence = flags.presence === true;
    if (commands.length === 0 && !presence)
      throw new UsageError(`--handler ${flags.handler}: a handler token needs --commands (a,b or '*')`);
    const events = names(flags.events, 'events');
    return {
      handler: { name: flags.handler, commands, events, ...(presence && { presence: true as const }) },
    };
  }
  throw new UsageError('give --user <userId> or --handler <name> (cashew token --help)');
}

function ttlFrom(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ttl = Number(value);
  if (!Number.isInteger(ttl) || ttl <= 0) throw new UsageError('--ttl: a whole number of seconds');
  return ttl;
}

export async function tokenCommand(
  args: string[],
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      ...SETTING_FLAGS,
      user: { type: 'string' },
      handler: { type: 'string' },
      commands: { type: 'string' },
      events: { type: 'string' },
      presence: { type: 'boolean' },
      ttl: { type: 'string' },
    },
    strict: true,
  });
  const subject = subjectFrom(values);
  const ttl = ttlFrom(values.ttl);
  const options = resolveOptions(settingsFrom(process.env, values));
  // With handler trust (HANDLER_*), a handler's token is signed by the handlers' key source.
  const handlerTrust = 'handler' in subject ? options.token.handlers : undefined;
  const trust = handlerTrust ?? options.token;
  const prefix = handlerTrust === undefined ? '' : 'HANDLER_';
  if (trust.publicKeyPath !== undefined || trust.jwksUrl !== undefined) {
    throw new CashewError(
      'ERR_CONFIG_INVALID',
      `tokens come from your identity provider when ${prefix}JWT_PUBLIC_KEY or ${prefix}JWKS_URL is set`,
    );
  }
  const secret = trust.secret ?? (await ensureDevSecret(options.certsDir));
  const token = signDevToken(subject, {
    secret,
    userClaim: options.token.userClaim,
    ...(ttl !== undefined && { ttlSec: ttl }),
    ...(trust.issuer !== undefined && { issuer: trust.issuer }),
    ...(trust.audience !== undefined && { audience: trust.audience }),
  });
  out.write(`${token}\n`);
  return 0;
}
