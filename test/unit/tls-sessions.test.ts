// Shared TLS ticket keys: the same on every node with the same secret and period, another key every
// period, and settings validated with the setting named.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SESSION_TIMEOUT_SEC,
  DEFAULT_TICKET_ROTATION_SEC,
  resolveTlsSessions,
  ticketKeysFor,
} from '../../broker/net/tls-sessions.ts';

const SECRET = 'a-shared-secret-of-at-least-32-characters';

describe('tls-sessions.ts', () => {
  it('derives 48 bytes of ticket keys, the same for the same secret and period only', () => {
    expect(ticketKeysFor(SECRET, 7)).toHaveLength(48);
    expect(ticketKeysFor(SECRET, 7).equals(ticketKeysFor(SECRET, 7))).toBe(true);
    expect(ticketKeysFor(SECRET, 7).equals(ticketKeysFor(SECRET, 8))).toBe(false);
    expect(ticketKeysFor(SECRET, 7).equals(ticketKeysFor(`${SECRET}!`, 7))).toBe(false);
  });

  it('resolves the defaults, and refuses a short secret or out-of-range seconds naming the setting', () => {
    expect(resolveTlsSessions({})).toEqual({
      ticketRotationSec: DEFAULT_TICKET_ROTATION_SEC,
      sessionTimeoutSec: DEFAULT_SESSION_TIMEOUT_SEC,
    });
    expect(resolveTlsSessions({ TLS_TICKET_SECRET: SECRET, TLS_TICKET_ROTATION_SEC: '3600' })).toMatchObject({
      ticketSecret: SECRET,
      ticketRotationSec: 3600,
    });
    expect(() => resolveTlsSessions({ TLS_TICKET_SECRET: 'short' })).toThrow(/TLS_TICKET_SECRET/);
    expect(() => resolveTlsSessions({ TLS_TICKET_ROTATION_SEC: '10' })).toThrow(/TLS_TICKET_ROTATION_SEC/);
    expect(() => resolveTlsSessions({ TLS_SESSION_TIMEOUT_SEC: '-1' })).toThrow(/TLS_SESSION_TIMEOUT_SEC/);
  });
});
