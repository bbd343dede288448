// The `cashew` command line in process: --version, --help for every command, usage errors (exit 2),
// and the grants `cashew token` refuses to sign.
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { createTokenVerifier } from '../../broker/auth/verify.ts';
import { resolveOptions } from '../../broker/index.ts';
import { COMMAND_NAMES, main } from '../../cli/main.ts';
import { subjectFrom } from '../../cli/token-command.ts';
import { UsageError } from '../../cli/usage-error.ts';

const PACKAGE = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

let stdout: MockInstance;
let stderr: MockInstance;
const written = (spy: MockInstance): string => spy.mock.calls.map(([chunk]) => String(chunk)).join('');

beforeEach(() => {
  // main() watches its parent process when run by npm; not in a test worker.
  vi.stubEnv('npm_lifecycle_event', undefined);
  stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('cashew --version and --help', () => {
  it('--version prints the version of package.json', async () => {
    expect(await main(['--version'])).toBe(0);
    expect(written(stdout)).toBe(`${PACKAGE.version}\n`);
  });

  it('--help and no command list every command on stdout, exit 0', async () => {
    for (const argv of [['--help'], []]) {
      stdout.mockClear();
      expect(await main(argv)).toBe(0);
      for (const name of COMMAND_NAMES) expect(written(stdout)).toContain(`\n  ${name} `);
    }
  });

  it.each(['broker', 'token', 'handler', 'demo', 'cluster'])(
    '`cashew %s --help` prints that command’s usage and runs nothing',
    async (name) => {
      expect(await main([name, '--help'])).toBe(0);
      expect(written(stdout)).toMatch(new RegExp(`^usage: cashew ${name}`));
      expect(written(stderr)).toBe('');
    },
  );

  it('knows exactly the commands it documents', () => {
    expect(COMMAND_NAMES.sort()).toEqual(['admin', 'broker', 'cluster', 'demo', 'handler', 'token']);
  });
});

describe('usage errors exit 2 with one line', () => {
  it.each([
    [['bogus'], 'unknown command'],
    [['token'], '--user <userId> or --handler <name>'],
    [['token', '--handler', 'apples'], 'needs --commands'],
    [['token', '--user', '68946', '--handler', 'apples', '--commands', 'a'], 'exclude each other'],
    [['token', '--user', '68946', '--frobnicate'], "Unknown option '--frobnicate'"],
    [['token', '--user', '68946', '--ttl', 'soon'], '--ttl'],
    [['handler'], 'which module?'],
  ])('cashew %j', async (argv, message) => {
    expect(await main(argv)).toBe(2);
    expect(written(stdout)).toBe('');
    const lines = written(stderr).trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(message);
  });
});

describe('cashew token grants', () => {
  it('a user token carries the user and nothing else', () => {
    expect(subjectFrom({ user: '68946' })).toEqual({ user: '68946' });
  });

  it('a handler token carries the commands and events it was given, wildcard only when asked', () => {
    expect(subjectFrom({ handler: 'apples', commands: 'get_apples', events: 'got_apples' })).toEqual({
      handler: { name: 'apples', commands: ['get_apples'], events: ['got_apples'] },
    });
    expect(subjectFrom({ handler: 'ops', commands: '*' })).toEqual({
      handler: { name: 'ops', commands: ['*'], events: [] },
    });
  });

  it.each([
    ['neither --user nor --handler', {}],
    ['--user with --handler', { user: '68946', handler: 'apples', commands: 'a' }],
    ['--user with --commands', { user: '68946', commands: 'get_apples' }],
    ['--user with --events', { user: '68946', events: 'got_apples' }],
    ['--handler with no --commands', { handler: 'apples', events: 'got_apples' }],
    ['--handler with an empty --commands', { handler: 'apples', commands: ',' }],
    ['--handler with an invalid command', { handler: 'apples', commands: 'get/apples' }],
    ['an invalid user id', { user: '+' }],
    ['an empty user id', { user: '' }],
  ])('refuses %s (ERR_USAGE)', (_what, flags) => {
    expect(() => subjectFrom(flags)).toThrow(UsageError);
    expect(() => subjectFrom(flags)).toThrow(expect.objectContaining({ code: 'ERR_USAGE' }));
  });
});

describe('cashew token with handler trust (HANDLER_*)', () => {
  const settings = {
    JWT_SECRET: 'users-secret-that-is-long-enough-0123456789',
    HANDLER_JWT_SECRET: 'handler-secret-that-is-long-enough-0123456789',
    HANDLER_JWT_AUDIENCE: 'cashew-handlers',
  };

  it('signs a handler token with the handlers key source, which the broker takes as a handler', async () => {
    for (const [name, value] of Object.entries(settings)) vi.stubEnv(name, value);
    expect(await main(['token', '--handler', 'ping', '--commands', 'ping', '--events', 'pong'])).toBe(0);
    const verifier = await createTokenVerifier(resolveOptions(settings).token);
    await expect(verifier.verify(written(stdout).trim())).resolves.toMatchObject({
      role: 'handler',
      name: 'ping',
    });
    stdout.mockClear();
    expect(await main(['token', '--user', '68946'])).toBe(0);
    await expect(verifier.verify(written(stdout).trim())).resolves.toMatchObject({
      role: 'user',
      userId: '68946',
    });
  });

  it('refuses to sign a handler token when handlers come from an identity provider', async () => {
    vi.stubEnv('JWT_SECRET', settings.JWT_SECRET);
    vi.stubEnv('HANDLER_JWKS_URL', 'https://idp.example/.well-known/jwks.json');
    expect(await main(['token', '--handler', 'ping', '--commands', 'ping'])).not.toBe(0);
    expect(written(stderr)).toContain('HANDLER_JWKS_URL');
  });
});
