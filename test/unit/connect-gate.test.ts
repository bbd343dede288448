// The connect gate on a frozen clock: rate per address, flapping per client id, connections in total
// and per user, and bounded memory under a flood of distinct keys.
import { describe, expect, it } from 'vitest';
import { ConnectGate, type ConnectLimits } from '../../broker/limits/connect-gate.ts';

const LIMITS: ConnectLimits = {
  connectRatePerAddress: 2,
  connectBurstPerAddress: 4,
  maxConnections: 10,
  maxConnectionsPerUser: 2,
  flappingMaxConnects: 3,
  flappingWindowMs: 10_000,
  flappingBanMs: 5_000,
};

describe('ConnectGate', () => {
  it('lets a burst through per address, then the rate, and refuses the rest with ERR_CONNECT_RATE', () => {
    const gate = new ConnectGate(LIMITS);
    const at = 1_000_000;
    const codes = Array.from({ length: 6 }, (_, i) => gate.admitConnect('10.0.0.1', `u${i}`, at)?.code);
    expect(codes).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      'ERR_CONNECT_RATE',
      'ERR_CONNECT_RATE',
    ]);
    expect(gate.admitConnect('10.0.0.2', 'other', at)).toBeUndefined();
    expect(gate.admitConnect('10.0.0.1', 'u6', at + 499)?.code).toBe('ERR_CONNECT_RATE');
    expect(gate.admitConnect('10.0.0.1', 'u7', at + 500)).toBeUndefined();
  });

  it('refuses a client id that connects more than the flapping limit within the window, for the ban time', () => {
    const gate = new ConnectGate(LIMITS);
    let at = 0;
    const next = (): string | undefined => gate.admitConnect(`10.0.0.${at}`, '42/phone', (at += 1000))?.code;
    expect([next(), next(), next()]).toEqual([undefined, undefined, undefined]);
    expect(next()).toBe('ERR_FLAPPING');
    expect(gate.admitConnect('10.0.0.99', '42/phone', at + 4_999)?.code).toBe('ERR_FLAPPING');
    // Once the ban is served, the count starts again (the window has not passed yet).
    expect(gate.admitConnect('10.0.0.99', '42/phone', at + 5_000)).toBeUndefined();
    expect(gate.admitConnect('10.0.0.99', '42/phone', at + 5_001)).toBeUndefined();
  });

  it('counts connections per user and in total, and frees them when they close', async () => {
    const gate = new ConnectGate({ ...LIMITS, maxConnections: 3 });
    expect(await gate.admitUser('42')).toBeUndefined();
    gate.opened('42');
    gate.opened('42');
    expect((await gate.admitUser('42'))?.code).toBe('ERR_TOO_MANY_CONNECTIONS');
    expect(await gate.admitUser('43')).toBeUndefined();
    gate.opened(undefined); // a handler counts in the total only
    expect(gate.admitConnect('10.0.0.1', '44', 0)?.code).toBe('ERR_TOO_MANY_CONNECTIONS');
    gate.closed('42');
    expect(await gate.admitUser('42')).toBeUndefined();
    expect(gate.admitConnect('10.0.0.1', '44', 0)).toBeUndefined();
    gate.closed('42');
    gate.closed(undefined);
    expect(gate.counts).toMatchObject({ connections: 0, users: 0 });
  });

  it('forgets the least recently seen keys beyond its bound, so a flood of addresses holds bounded memory', () => {
    const gate = new ConnectGate(LIMITS, 1000);
    for (let i = 0; i < 50_000; i += 1)
      gate.admitConnect(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, `c${i}`, i);
    expect(gate.counts.addresses).toBe(1000);
    expect(gate.counts.clientIds).toBe(1000);
  });
});
