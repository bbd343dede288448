// `cashew token`: sign a dev token for a user or a handler with JWT_SECRET or the dev secret.
import { parseArgs } from 'node:util';
import { ensureDevSecret, resolveOptions, signDevToken, type TokenSubject } from '../broker/index.ts';
import { CashewError, isValidName, isValidUserId } from '../protocol/index.ts';
import { SETTING_FLAGS, settingsFrom } from './settings.ts';

const USAGE = `usage: cashew token --user <userId> [--ttl <seconds>]
       cashew token --handler <name> --commands a,b --events c,d [--ttl <seconds>]`;

function names(list: string | undefined, flag: string): string[] {
  const items = (list ?? '').split(',').filter((item) => item !== '');
  for (const item of items) {
    if (item !== '*' && !isValidName(item))
      throw new CashewError('ERR_CONFIG_INVALID', `--${flag}: invalid name ${String(item)}`);
  }
  return items;
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
      ttl: { type: 'string' },
    },
    strict: true,
  });
  const options = resolveOptions(settingsFrom(process.env, values));
  if (options.token.publicKeyPath !== undefined || options.token.jwksUrl !== undefined) {
    throw new CashewError(
      'ERR_CONFIG_INVALID',
      'tokens come from your identity provider when JWT_PUBLIC_KEY or JWKS_URL is set',
    );
  }
  let subject: TokenSubject;
  if (values.user !== undefined) {
    if (!isValidUserId(values.user))
      throw new CashewError('ERR_CONFIG_INVALID', `--user: invalid user id ${String(values.user)}`);
    subject = { user: values.user };
  } else if (values.handler !== undefined) {
    if (!isValidName(values.handler)) throw new CashewError('ERR_CONFIG_INVALID', `--handler: invalid name`);
    subject = {
      handler: {
        name: values.handler,
        commands: names(values.commands, 'commands'),
        events: names(values.events, 'events'),
      },
    };
  } else {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const ttl = values.ttl === undefined ? undefined : Number(values.ttl);
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl <= 0)) {
    throw new CashewError('ERR_CONFIG_INVALID', '--ttl: a whole number of seconds');
  }
  const secret = options.token.secret ?? (await ensureDevSecret(options.certsDir));
  const token = signDevToken(subject, {
    secret,
    userClaim: options.token.userClaim,
    ...(ttl !== undefined && { ttlSec: ttl }),
    ...(options.token.issuer !== undefined && { issuer: options.token.issuer }),
    ...(options.token.audience !== undefined && { audience: options.token.audience }),
  });
  out.write(`${token}\n`);
  return 0;
}
