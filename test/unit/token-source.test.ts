// Handler token sources against real files and a real loopback token endpoint, the environment that
// picks one, and the one-line explanation of a refused handler token.
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { afterEach, describe, expect, it } from 'vitest';
import { tokenSourceFromEnv } from '../../cli/handler-token.ts';
import { explainHandlerToken } from '../../handlers/token-check.ts';
import { clientCredentialsTokenSource, fileTokenSource } from '../../handlers/token-source.ts';
import { startTokenEndpoint, type TokenEndpoint } from '../support/token-endpoint.ts';

const SECRET = 'unit-secret-that-is-long-enough-0123456789';
const opened: TokenEndpoint[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((endpoint) => endpoint.close()));
});

async function endpoint(expiresInSec: number): Promise<TokenEndpoint> {
  const started = await startTokenEndpoint({
    clientId: 'id',
    clientSecret: 'secret',
    audience: 'api',
    claims: { handler: { name: 'h' } },
    secret: SECRET,
    expiresInSec,
  });
  opened.push(started);
  return started;
}

describe('fileTokenSource', () => {
  it('reads the file again when it changes, not otherwise; refuses a missing or empty file', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'cashew-token-')), 'token');
    writeFileSync(path, 'first.token.x\n');
    const source = fileTokenSource(path);
    expect(await source()).toBe('first.token.x');
    writeFileSync(path, 'second.token.longer\n');
    utimesSync(path, new Date(), new Date(Date.now() + 5000));
    expect(await source()).toBe('second.token.longer');
    writeFileSync(path, '  \n');
    utimesSync(path, new Date(), new Date(Date.now() + 10_000));
    await expect(source()).rejects.toMatchObject({ code: 'ERR_TOKEN_SOURCE' });
    await expect(fileTokenSource(`${path}.missing`)()).rejects.toMatchObject({ code: 'ERR_TOKEN_SOURCE' });
  });
});

describe('clientCredentialsTokenSource', () => {
  it('gets a token with the client-credentials grant and reuses it for half its lifetime', async () => {
    const idp = await endpoint(3600);
    const source = clientCredentialsTokenSource({
      tokenUrl: idp.url,
      clientId: 'id',
      clientSecret: 'secret',
      audience: 'api',
    });
    const token = await source();
    expect(jwt.verify(token, SECRET)).toMatchObject({ handler: { name: 'h' } });
    expect(await source()).toBe(token);
    expect(idp.issued).toBe(1);
  });

  it('asks again once half the lifetime has passed', async () => {
    const idp = await endpoint(0);
    const source = clientCredentialsTokenSource({
      tokenUrl: idp.url,
      clientId: 'id',
      clientSecret: 'secret',
      audience: 'api',
    });
    await source();
    await source();
    expect(idp.issued).toBe(2);
  });

  it('refuses for good on refused credentials or audience (ERR_TOKEN_SOURCE), for now when unreachable (ERR_OFFLINE)', async () => {
    const idp = await endpoint(60);
    const bad = { tokenUrl: idp.url, clientId: 'id', clientSecret: 'wrong', audience: 'api' };
    await expect(clientCredentialsTokenSource(bad)()).rejects.toMatchObject({ code: 'ERR_TOKEN_SOURCE' });
    await expect(
      clientCredentialsTokenSource({ ...bad, clientSecret: 'secret', audience: 'other' })(),
    ).rejects.toMatchObject({ code: 'ERR_TOKEN_SOURCE' });
    expect(idp.refused).toBe(2);
    const url = idp.url;
    await idp.close();
    opened.splice(0);
    await expect(
      clientCredentialsTokenSource({ ...bad, tokenUrl: url, timeoutMs: 2000 })(),
    ).rejects.toMatchObject({ code: 'ERR_OFFLINE' });
  });
});

describe('tokenSourceFromEnv', () => {
  it('picks one source, and names a missing or conflicting setting', () => {
    expect(tokenSourceFromEnv({})).toBeUndefined();
    expect(tokenSourceFromEnv({ CASHEW_TOKEN: 't' })).toEqual({ kind: 'static', token: 't' });
    expect(tokenSourceFromEnv({ CASHEW_TOKEN_FILE: '/run/token' })).toEqual({
      kind: 'file',
      path: '/run/token',
    });
    expect(
      tokenSourceFromEnv({
        CASHEW_TOKEN_URL: 'https://tenant.auth0.com/oauth/token',
        CASHEW_CLIENT_ID: 'id',
        CASHEW_CLIENT_SECRET: 's',
        CASHEW_TOKEN_AUDIENCE: 'https://api',
      }),
    ).toEqual({
      kind: 'client-credentials',
      tokenUrl: 'https://tenant.auth0.com/oauth/token',
      clientId: 'id',
      clientSecret: 's',
      audience: 'https://api',
    });
    expect(() => tokenSourceFromEnv({ CASHEW_TOKEN: 't', CASHEW_TOKEN_FILE: 'f' })).toThrow(/exclusive/);
    expect(() => tokenSourceFromEnv({ CASHEW_TOKEN_URL: 'https://x' })).toThrow(/CASHEW_CLIENT_ID/);
    expect(() =>
      tokenSourceFromEnv({ CASHEW_TOKEN_URL: 'ftp://x', CASHEW_CLIENT_ID: 'i', CASHEW_CLIENT_SECRET: 's' }),
    ).toThrow(/CASHEW_TOKEN_URL/);
  });
});

describe('explainHandlerToken', () => {
  const sign = (claims: Record<string, unknown>, expiresIn = 60): string =>
    jwt.sign(claims, SECRET, { algorithm: 'HS256', expiresIn });

  it('tells an expired token, another handler, a user token, no JWT; nothing for a good one', () => {
    expect(explainHandlerToken(sign({ handler: { name: 'h' } }), 'h')).toBeUndefined();
    expect(explainHandlerToken(sign({ handler: { name: 'h' } }, -5), 'h')?.code).toBe('ERR_TOKEN_EXPIRED');
    expect(explainHandlerToken(sign({ handler: { name: 'g' } }), 'h')?.message).toBe(
      'the token is for handler "g", this process runs handler "h"',
    );
    expect(explainHandlerToken(sign({ sub: 'u1' }), 'h')?.code).toBe('ERR_IDENTITY_INVALID');
    expect(explainHandlerToken('opaque', 'h')?.code).toBe('ERR_TOKEN_MALFORMED');
  });
});
