// A listener that cannot bind is one ERR_START_FAILED line naming the setting to change.
import { describe, expect, it } from 'vitest';
import { listenError } from '../../broker/net/listeners.ts';

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`listen ${code}`), { code });
}

describe('listenError', () => {
  it.each([
    ['wss', '127.0.0.1', 8884, 'EADDRINUSE', 'WSS_PORT: 127.0.0.1:8884 is already in use'],
    ['mqtts', '::1', 883, 'EACCES', 'MQTTS_PORT: [::1]:883 may not be bound by this user (EACCES)'],
    [
      'mqtt',
      '10.9.9.9',
      1883,
      'EADDRNOTAVAIL',
      'HOST: 10.9.9.9 is not an address of this machine (EADDRNOTAVAIL)',
    ],
    ['ws', 'broker.invalid', 8080, 'ENOTFOUND', 'HOST: broker.invalid does not resolve (ENOTFOUND)'],
    ['ws', '127.0.0.1', 8080, 'EMFILE', 'WS_PORT: cannot listen on 127.0.0.1:8080 (EMFILE)'],
  ] as const)('%s on %s:%i, %s', (name, host, port, code, message) => {
    const cause = errno(code);
    expect(listenError(name, host, port, cause)).toMatchObject({ code: 'ERR_START_FAILED', message, cause });
  });
});
