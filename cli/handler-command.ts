// `cashew handler <module>`: runs one handler module as its own process. Token from CASHEW_TOKEN, or
// in dev mode one signed with JWT_SECRET or the dev secret; CA from CASHEW_CA or <CERTS_DIR>/ca.crt.
// A JavaScript module runs as it is; a TypeScript one (.ts, .mts, .cts) loads tsx first, only then.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureDevSecret } from '../broker/dev/dev-credentials.ts';
import { FROM_SOURCE } from '../broker/dev/package-files.ts';
import { signDevToken } from '../broker/dev/sign-dev-token.ts';
import { createLogger } from '../broker/log/logger.ts';
import { resolveOptions, DEFAULT_MQTTS_PORT, type BrokerOptions } from '../broker/options.ts';
import { isHandler, type Handler } from '../handlers/define.ts';
import { runHandler } from '../handlers/runtime.ts';
import { createTokenSource, describeTokenSource } from '../handlers/token-source.ts';
import type { TokenSource } from '../client-sdk/connection.ts';
import { tokenSourceFromEnv } from './handler-token.ts';
import { CashewError, isRecord } from '../protocol/index.ts';
import { SETTING_FLAGS, settingsFrom } from './settings.ts';
import { UsageError } from './usage-error.ts';

export const USAGE = `usage: cashew handler <module> [--url mqtts://localhost:8883] [setting flags]
Runs the handler a module exports (export default defineHandler(…) from 'cashew/handlers') as its own
process until SIGINT/SIGTERM, then drains the commands in flight. A .js/.mjs module runs as it is; a
.ts/.mts/.cts module is loaded through tsx.
  env: CASHEW_URL, CASHEW_CA (PEM file), LOG_LEVEL, and the token source (one, required in production):
    CASHEW_TOKEN (static), CASHEW_TOKEN_FILE (re-read on change), or CASHEW_TOKEN_URL with
    CASHEW_CLIENT_ID, CASHEW_CLIENT_SECRET [CASHEW_TOKEN_AUDIENCE, CASHEW_TOKEN_SCOPE] (OAuth2 client
    credentials, e.g. Auth0 M2M). Refreshed over the connection before it expires.`;

const TYPESCRIPT_MODULE = /\.[mc]?tsx?$/;

/** Registers tsx (ESM and CommonJS hooks) once, for a TypeScript handler module. */
async function registerTypeScript(): Promise<void> {
  if (FROM_SOURCE) return; // Cashew itself runs through tsx already
  const [esm, cjs] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]);
  esm.register();
  cjs.register();
}

interface Exports {
  readonly default?: unknown;
  readonly handler?: unknown;
}

async function loadHandler(path: string): Promise<Handler> {
  if (TYPESCRIPT_MODULE.test(path)) await registerTypeScript();
  const module = (await import(pathToFileURL(resolve(path)).href)) as Exports;
  // A CommonJS module (e.g. a .ts file in a project without "type": "module") arrives with its
  // exports object as `default`.
  const commonJs: Exports = isRecord(module.default) ? module.default : {};
  const handler = [module.default, module.handler, commonJs.default, commonJs.handler].find(isHandler);
  if (handler === undefined)
    throw new CashewError(
      'ERR_CONFIG_INVALID',
      `${path} exports no handler (export default defineHandler(…))`,
    );
  return handler;
}

async function tokenSource(handler: Handler, options: BrokerOptions): Promise<TokenSource> {
  const configured = tokenSourceFromEnv(process.env);
  if (configured !== undefined) return createTokenSource(configured);
  if (
    options.mode !== 'dev' ||
    options.token.publicKeyPath !== undefined ||
    options.token.jwksUrl !== undefined
  )
    throw new CashewError(
      'ERR_CONFIG_INVALID',
      'CASHEW_TOKEN, CASHEW_TOKEN_FILE or CASHEW_TOKEN_URL: a handler token from your identity provider',
    );
  const secret = options.token.secret ?? (await ensureDevSecret(options.certsDir));
  const subject = {
    handler: {
      name: handler.name,
      commands: Object.keys(handler.commands),
      events: handler.events,
      ...(handler.presence !== undefined && { presence: true as const }),
    },
  };
  // A fresh dev token on every (re)connect.
  return () =>
    signDevToken(subject, {
      secret,
      ...(options.token.issuer !== undefined && { issuer: options.token.issuer }),
      ...(options.token.audience !== undefined && { audience: options.token.audience }),
    });
}

export async function handlerCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...SETTING_FLAGS, url: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const [modulePath] = positionals;
  if (modulePath === undefined) throw new UsageError('which module? cashew handler <module> (--help)');
  if (positionals.length > 1) throw new UsageError(`one module per process, not ${positionals.length}`);
  const options = resolveOptions(settingsFrom(process.env, values));
  const handler = await loadHandler(modulePath);
  const logger = createLogger(options.logLevel, undefined, options.logFormat).child({
    handler: handler.name,
  });
  const url = values.url ?? process.env.CASHEW_URL ?? `mqtts://localhost:${DEFAULT_MQTTS_PORT}`;
  const caPath = process.env.CASHEW_CA ?? join(options.certsDir, 'ca.crt');
  const ca = existsSync(caPath) ? await readFile(caPath) : undefined;
  const configured = tokenSourceFromEnv(process.env);
  const sourceName = configured === undefined ? 'the dev secret' : describeTokenSource(configured);
  const running = await runHandler(handler, {
    url,
    getToken: await tokenSource(handler, options),
    logger,
    mqtt: ca === undefined ? {} : { ca },
  });
  const signal = await new Promise<NodeJS.Signals>((resolveSignal, rejectFailed) => {
    process.once('SIGINT', () => resolveSignal('SIGINT'));
    process.once('SIGTERM', () => resolveSignal('SIGTERM'));
    // Given up for good (the token source cannot give a token the broker accepts): one line, exit 1.
    void running.failed.then((error) =>
      rejectFailed(
        new CashewError(error.code, `${error.message} (token from ${sourceName})`, { cause: error }),
      ),
    );
  });
  logger.info({ signal, inFlight: running.inFlight }, 'draining');
  const { drained } = await running.stop();
  logger.info({ drained }, 'handler stopped');
  return drained ? 0 : 1;
}
