// Tokens for tests, signed like an identity provider would.
import jwt from 'jsonwebtoken';
import { TEST_SECRET } from './broker.ts';

export function userToken(
  userId: string,
  claims: Record<string, unknown> = {},
  options: jwt.SignOptions = {},
): string {
  return jwt.sign({ sub: userId, ...claims }, TEST_SECRET, {
    algorithm: 'HS256',
    expiresIn: 3600,
    ...options,
  });
}

export function handlerToken(
  name: string,
  commands: string[],
  events: string[],
  options: jwt.SignOptions = {},
): string {
  return jwt.sign({ sub: `handler:${name}`, handler: { name, commands, events } }, TEST_SECRET, {
    algorithm: 'HS256',
    expiresIn: 3600,
    ...options,
  });
}

/** A handler token granted presence (`"presence": true` in the handler claim). */
export function presenceHandlerToken(
  name: string,
  commands: string[] = [],
  events: string[] = [],
  options: jwt.SignOptions = {},
): string {
  return jwt.sign(
    { sub: `handler:${name}`, handler: { name, commands, events, presence: true } },
    TEST_SECRET,
    { algorithm: 'HS256', expiresIn: 3600, ...options },
  );
}
