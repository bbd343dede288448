// docs/errors.md lists every code of ERROR_CODES, and no code that does not exist.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CashewError, ERROR_CODES, isCashewError } from '../../protocol/index.ts';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const documented = new Set([...doc.matchAll(/`(ERR_[A-Z0-9_]+)`/g)].map((match) => match[1] ?? ''));

describe('the error catalogue', () => {
  it('documents every code in docs/errors.md', () => {
    expect(Object.keys(ERROR_CODES).filter((code) => !documented.has(code))).toEqual([]);
  });

  it('documents no code that does not exist', () => {
    expect([...documented].filter((code) => !(code in ERROR_CODES))).toEqual([]);
  });

  it('documents each code in a table row of its own', () => {
    for (const code of Object.keys(ERROR_CODES)) expect(doc).toMatch(new RegExp(`^\\| \`${code}\` \\|`, 'm'));
  });

  it('makes errors with a stable code, a name, a default message and the cause kept', () => {
    const cause = new Error('inner');
    const error = new CashewError('ERR_TOKEN_EXPIRED', undefined, { cause });
    expect(error).toBeInstanceOf(Error);
    expect(isCashewError(error)).toBe(true);
    expect(isCashewError(new Error('x'))).toBe(false);
    expect(error).toMatchObject({ code: 'ERR_TOKEN_EXPIRED', name: 'CashewError', cause });
    expect(error.message).toBe(ERROR_CODES.ERR_TOKEN_EXPIRED);
  });
});
