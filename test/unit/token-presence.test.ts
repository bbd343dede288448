// `cashew token --presence`: the presence grant of a handler token, and only of a handler token.
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { signDevToken } from '../../broker/dev/sign-dev-token.ts';
import { subjectFrom } from '../../cli/token-command.ts';

describe('cashew token --presence', () => {
  it('grants presence in the handler claim; a presence-only handler needs no command', () => {
    const subject = subjectFrom({ handler: 'push', presence: true });
    expect(subject).toEqual({ handler: { name: 'push', commands: [], events: [], presence: true } });
    const claims = jwt.decode(signDevToken(subject, { secret: 'x'.repeat(32) })) as { handler?: unknown };
    expect(claims.handler).toEqual({ name: 'push', commands: [], events: [], presence: true });
  });

  it('grants nothing by omission', () => {
    expect(subjectFrom({ handler: 'push', commands: 'a' })).toEqual({
      handler: { name: 'push', commands: ['a'], events: [] },
    });
  });

  it('is refused with --user', () => {
    expect(() => subjectFrom({ user: 'ann', presence: true })).toThrow(/--presence/);
  });
});
