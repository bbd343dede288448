// The pure side of the dev token endpoint: which hosts are loopback, and when the broker refuses to start.
import { describe, expect, it } from 'vitest';
import { resolveOptions, type Settings } from '../../broker/index.ts';
import { assertDevTokensExposureAllowed, isLoopbackHost } from '../../broker/dev/dev-token-endpoint.ts';

const SECRET = 'unit-secret-that-is-long-enough-0123456789';

describe('isLoopbackHost', () => {
  it.each(['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]', '::ffff:127.0.0.1'])(
    '%s is loopback',
    (host) => expect(isLoopbackHost(host)).toBe(true),
  );
  it.each(['0.0.0.0', '::', '192.168.1.10', '10.0.0.1', 'example.com', '::ffff:10.0.0.1', '128.0.0.1', ''])(
    '%s is not loopback',
    (host) => expect(isLoopbackHost(host)).toBe(false),
  );
});

describe('assertDevTokensExposureAllowed', () => {
  const check = (settings: Settings) => () =>
    assertDevTokensExposureAllowed(resolveOptions({ JWT_SECRET: SECRET, ...settings }));

  it('allows dev mode on the default loopback host', () => {
    expect(check({})).not.toThrow();
  });
  it('refuses dev mode on 0.0.0.0 with the endpoint on, naming the override', () => {
    expect(check({ HOST: '0.0.0.0' })).toThrow(
      expect.objectContaining({
        code: 'ERR_CONFIG_INVALID',
        message: expect.stringContaining('DEV_TOKENS_ALLOW_REMOTE'),
      }),
    );
  });
  it('allows a non-loopback host with the explicit override', () => {
    expect(check({ HOST: '0.0.0.0', DEV_TOKENS_ALLOW_REMOTE: 'true' })).not.toThrow();
  });
  it('allows a non-loopback host with the endpoint off', () => {
    expect(check({ HOST: '0.0.0.0', DEV_TOKENS: 'false' })).not.toThrow();
  });
  it('does not apply in production mode, where the endpoint never exists', () => {
    expect(check({ CASHEW_MODE: 'production', HOST: '0.0.0.0', TLS_CERT: 'c', TLS_KEY: 'k' })).not.toThrow();
  });
  it('refuses a value that is not true or false', () => {
    expect(check({ DEV_TOKENS_ALLOW_REMOTE: 'yes' })).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }),
    );
  });
});
