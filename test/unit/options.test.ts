// Options are resolved and validated once; each bad setting fails with ERR_CONFIG_INVALID naming it.
import { describe, expect, it } from 'vitest';
import { resolveOptions, SETTINGS, type Settings } from '../../broker/index.ts';
import { settingsFrom } from '../../cli/settings.ts';

const SECRET = 'x'.repeat(32);

describe('resolveOptions', () => {
  it('has the documented defaults', () => {
    const options = resolveOptions({});
    expect(options).toMatchObject({
      mode: 'dev',
      host: '127.0.0.1',
      mqttsPort: 8883,
      wssPort: 8884,
      certsDir: 'certs/dev',
      logLevel: 'info',
      logFormat: 'auto',
      presenceGraceMs: 5000,
      token: { algorithms: ['HS256'], userClaim: 'sub', clockToleranceSec: 30, jwksCooldownMs: 30_000 },
    });
    expect(options.mqttPort).toBeUndefined();
    expect(options.wsPort).toBeUndefined();
    expect(
      resolveOptions({ JWKS_URL: 'https://idp.example/.well-known/jwks.json' }).token.algorithms,
    ).toEqual(['RS256']);
  });

  it('accepts port 0, plain ports when set, a list of algorithms, and the other settings', () => {
    const options = resolveOptions({
      CASHEW_MODE: 'production',
      MQTTS_PORT: '0',
      WSS_PORT: '0',
      MQTT_PORT: '1883',
      WS_PORT: '8080',
      TLS_CERT: '/etc/cert.pem',
      TLS_KEY: '/etc/key.pem',
      JWT_SECRET: SECRET,
      JWT_ALGORITHMS: 'HS256, HS512',
      JWT_ISSUER: 'https://idp.example/',
      JWT_AUDIENCE: 'cashew',
      JWT_USER_CLAIM: 'user_id',
      JWT_CLOCK_TOLERANCE: '0',
      REDIS_URL: 'redis://localhost:6379',
      NODE_ID: 'node-1',
      LOG_FORMAT: 'json',
      PRESENCE_GRACE_MS: '0',
    });
    expect(options).toMatchObject({
      logFormat: 'json',
      presenceGraceMs: 0,
      mode: 'production',
      host: '0.0.0.0',
      mqttsPort: 0,
      wssPort: 0,
      mqttPort: 1883,
      wsPort: 8080,
      redisUrl: 'redis://localhost:6379',
      nodeId: 'node-1',
      token: {
        algorithms: ['HS256', 'HS512'],
        issuer: 'https://idp.example/',
        audience: 'cashew',
        userClaim: 'user_id',
        clockToleranceSec: 0,
      },
    });
  });

  it.each<[Settings, string]>([
    [{ CASHEW_MODE: 'staging' }, 'CASHEW_MODE'],
    [{ MQTTS_PORT: '99999' }, 'MQTTS_PORT'],
    [{ WSS_PORT: '-1' }, 'WSS_PORT'],
    [{ MQTT_PORT: 'abc' }, 'MQTT_PORT'],
    [{ WS_PORT: '80.5' }, 'WS_PORT'],
    [{ TLS_CERT: '/etc/cert.pem' }, 'TLS_KEY'],
    [{ TLS_KEY: '/etc/key.pem' }, 'TLS_CERT'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET'],
    [{ JWT_SECRET: SECRET, JWKS_URL: 'https://idp.example/jwks' }, 'JWKS_URL'],
    [{ JWT_SECRET: SECRET, JWT_PUBLIC_KEY: '/k.pem' }, 'JWT_PUBLIC_KEY'],
    [{ JWKS_URL: 'ftp://idp.example/jwks' }, 'JWKS_URL'],
    [{ JWKS_URL: 'https://idp.example/jwks', JWKS_COOLDOWN_MS: 'soon' }, 'JWKS_COOLDOWN_MS'],
    [{ JWKS_COOLDOWN_MS: '-1' }, 'JWKS_COOLDOWN_MS'],
    [{ JWT_ALGORITHMS: 'none' }, 'JWT_ALGORITHMS'],
    [{ JWT_ALGORITHMS: 'HS256,none' }, 'JWT_ALGORITHMS'],
    [{ JWT_ALGORITHMS: ',' }, 'JWT_ALGORITHMS'],
    [{ JWT_SECRET: SECRET, JWT_ALGORITHMS: 'RS256' }, 'JWT_ALGORITHMS'],
    [{ JWT_PUBLIC_KEY: '/k.pem', JWT_ALGORITHMS: 'RS256,HS256' }, 'JWT_ALGORITHMS'],
    [{ JWKS_URL: 'https://idp.example/jwks', JWT_ALGORITHMS: 'HS256' }, 'JWT_ALGORITHMS'],
    [{ JWT_CLOCK_TOLERANCE: 'abc' }, 'JWT_CLOCK_TOLERANCE'],
    [{ JWT_CLOCK_TOLERANCE: '3600' }, 'JWT_CLOCK_TOLERANCE'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ LOG_FORMAT: 'xml' }, 'LOG_FORMAT'],
    [{ PRESENCE_GRACE_MS: '-1' }, 'PRESENCE_GRACE_MS'],
    [{ PRESENCE_GRACE_MS: '1.5' }, 'PRESENCE_GRACE_MS'],
    [{ PRESENCE_GRACE_MS: '300001' }, 'PRESENCE_GRACE_MS'],
    [{ REDIS_URL: 'http://localhost:6379' }, 'REDIS_URL'],
    [{ CASHEW_MODE: 'production', TLS_CERT: '/c', TLS_KEY: '/k' }, 'JWT_SECRET'],
    [{ CASHEW_MODE: 'production', JWT_SECRET: SECRET }, 'TLS_CERT'],
    [
      { CASHEW_MODE: 'production', TLS_CERT: '/c', TLS_KEY: '/k', JWKS_URL: 'http://idp.example/jwks' },
      'JWKS_URL',
    ],
    [{ JWKS_MAX_AGE_MS: '10' }, 'JWKS_MAX_AGE_MS'],
    [{ JWKS_STALE_MS: 'forever' }, 'JWKS_STALE_MS'],
    [{ JWKS_RETRY_MS: '0' }, 'JWKS_RETRY_MS'],
    [{ HANDLER_JWKS_URL: 'https://idp.example/jwks', HANDLER_JWT_SECRET: SECRET }, 'HANDLER_JWKS_URL'],
    [{ HANDLER_JWT_SECRET: SECRET, HANDLER_JWT_PUBLIC_KEY: '/k.pem' }, 'HANDLER_JWT_PUBLIC_KEY'],
    [{ HANDLER_JWT_SECRET: 'short' }, 'HANDLER_JWT_SECRET'],
    [{ HANDLER_JWKS_URL: 'ftp://idp.example/jwks' }, 'HANDLER_JWKS_URL'],
    [{ HANDLER_JWT_SECRET: SECRET, HANDLER_JWT_ALGORITHMS: 'RS256' }, 'HANDLER_JWT_ALGORITHMS'],
    [{ HANDLER_JWT_AUDIENCE: 'cashew-handlers' }, 'HANDLER_JWT_AUDIENCE'],
    [{ HANDLER_JWT_ISSUER: 'https://idp.example/' }, 'HANDLER_JWT_SECRET'],
    [
      {
        CASHEW_MODE: 'production',
        TLS_CERT: '/c',
        TLS_KEY: '/k',
        JWT_SECRET: SECRET,
        HANDLER_JWKS_URL: 'http://idp.example/jwks',
      },
      'HANDLER_JWKS_URL',
    ],
  ])('refuses %j, naming %s', (settings, name) => {
    expect(() => resolveOptions(settings)).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_INVALID', message: expect.stringContaining(name) }),
    );
  });

  it('resolves handler trust only when a handler key source is set, with the JWKS timings shared', () => {
    expect(resolveOptions({}).token.handlers).toBeUndefined();
    const { token } = resolveOptions({
      JWKS_URL: 'https://idp.example/jwks',
      HANDLER_JWKS_URL: 'https://idp.example/jwks',
      HANDLER_JWT_AUDIENCE: 'cashew-handlers',
      JWKS_MAX_AGE_MS: '60000',
    });
    expect(token.handlers).toEqual({
      jwksUrl: 'https://idp.example/jwks',
      algorithms: ['RS256'],
      audience: 'cashew-handlers',
    });
    expect(token.jwks).toEqual({ cooldownMs: 30_000, maxAgeMs: 60_000, staleMs: 3_600_000, retryMs: 1_000 });
  });

  it('never echoes a secret in its message', () => {
    expect(() => resolveOptions({ JWT_SECRET: 'hunter2' })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('hunter2') }),
    );
  });
});

describe('settings from the environment and flags', () => {
  it('reads every documented setting from the environment, and a flag overrides it', () => {
    const env = Object.fromEntries(SETTINGS.map((name) => [name, `env-${name}`]));
    const settings = settingsFrom(
      { ...env, UNRELATED: 'x' },
      { 'mqtts-port': '0', 'jwt-user-claim': 'user_id' },
    );
    expect(Object.keys(settings).sort()).toEqual([...SETTINGS].sort());
    expect(settings.MQTTS_PORT).toBe('0');
    expect(settings.JWT_USER_CLAIM).toBe('user_id');
    expect(settings.HOST).toBe('env-HOST');
  });
});
