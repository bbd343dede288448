// Cashew as a dependency of another project: `npm pack`, install the tarball into a fresh project,
// start the broker with that project's `npx cashew broker`, run a TypeScript and a JavaScript handler
// (`npx cashew handler <file>`, both importing `cashew/handlers`), call them from the installed SDK
// (`cashew/client`), type-check against the shipped declarations, stop everything with signals sent
// to npx. Fails when an export, a declaration or the bin breaks.
import { mkdtemp, rm } from 'node:fs/promises';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SECRET } from '../support/broker.ts';
import { cleanEnv } from '../support/cli.ts';
import {
  createProject,
  killAll,
  packRepository,
  runInProject,
  startInProject,
  type ProjectProcess,
  type Tarball,
} from './installed-project.ts';
import {
  COMMONJS_HANDLER,
  DEVICE_SCRIPT,
  HANDLER_TEST,
  JS_HANDLER,
  NO_TSX_HOOK,
  PROJECT_FILES,
  TS_HANDLER,
} from './project-files.ts';

const PACKAGE_SETUP_TIMEOUT_MS = 150_000;
const VERSION = (await import('../../package.json', { with: { type: 'json' } })).default.version;

let workDir: string;
let tarball: Tarball;
let project: string;
let env: NodeJS.ProcessEnv;
/** The same environment with a hook that fails the process if it loads tsx. */
let envWithoutTsx: NodeJS.ProcessEnv;
/** tsc over the project (Node resolution) and over its browser file (browser condition), started early. */
let typeChecks: Promise<{ code: number; stdout: string; stderr: string }[]>;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'cashew-pack-'));
  tarball = await packRepository(workDir);
  project = await createProject(tarball.file, PROJECT_FILES);
  env = cleanEnv({
    HOST: '127.0.0.1',
    MQTTS_PORT: '0',
    WSS_PORT: '0',
    CERTS_DIR: join(workDir, 'certs'),
    JWT_SECRET: TEST_SECRET,
    LOG_LEVEL: 'info',
  });
  delete env.CASHEW_SOURCE;
  const tsc = join(project, 'node_modules', '.bin', 'tsc');
  typeChecks = Promise.all(
    ['tsconfig.json', 'tsconfig.browser.json'].map((config) =>
      runInProject(project, tsc, ['-p', config], env, 120_000),
    ),
  );
  envWithoutTsx = {
    ...env,
    NODE_OPTIONS: `--import=${pathToFileURL(join(project, NO_TSX_HOOK)).href}`,
  };
}, PACKAGE_SETUP_TIMEOUT_MS);

afterAll(async () => {
  killAll();
  if (project !== undefined) await rm(project, { recursive: true, force: true });
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

describe('the tarball', () => {
  it('holds the compiled package, its declarations and documents, and no sources or tests', () => {
    const paths = tarball.files.map((file) => file.path);
    for (const entry of [
      'package.json',
      'bin/cashew.js',
      'LICENSE',
      'README.md',
      'CHANGELOG.md',
      'dist/broker/index.js',
      'dist/broker/index.d.ts',
      'dist/handlers/index.js',
      'dist/handlers/index.d.ts',
      'dist/client-sdk/index.js',
      'dist/client-sdk/index.d.ts',
      'dist/browser/cashew-sdk.js',
      'dist/browser/cashew-sdk.d.ts',
      'dist/cli/main.js',
    ])
      expect(paths).toContain(entry);
    const strays = paths.filter(
      (path) =>
        (path.endsWith('.ts') && !path.endsWith('.d.ts')) ||
        /^(test|bench|web|scripts)\//.test(path) ||
        path.endsWith('.map') ||
        path.includes('.build-stamp') ||
        path.startsWith('node_modules/'),
    );
    expect(strays).toEqual([]);
    // dist/ (with the browser bundle) and docs/ (docs/performance.md carries the bench's tables): 406 KB
    // at issue 13; the bound catches a stray folder (sources, tests, node_modules), not a longer doc.
    expect(tarball.size).toBeLessThan(450_000);
  });
});

describe('an outside project with cashew installed', () => {
  let broker: ProjectProcess;
  let greeter: ProjectProcess;
  let adder: ProjectProcess;
  let legacy: ProjectProcess;
  let mqttsPort: number;

  it('`npx cashew --version` and `cashew token` run the compiled CLI without tsx', async () => {
    const version = await runInProject(project, 'npx', ['cashew', '--version'], envWithoutTsx);
    expect(version).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
    const cashew = join(project, 'node_modules', '.bin', 'cashew');
    const [token, refused] = await Promise.all([
      runInProject(project, cashew, ['token', '--user', 'ada'], envWithoutTsx),
      runInProject(project, cashew, ['token', '--handler', 'x'], envWithoutTsx),
    ]);
    expect(token.stderr).toBe('');
    expect(token.stdout.trim().split('.')).toHaveLength(3);
    expect(refused.code).toBe(2);
  }, 60_000);

  it('serves handlers in TypeScript (ESM and CommonJS) and JavaScript (the broker and it without tsx)', async () => {
    broker = startInProject(project, ['cashew', 'broker'], envWithoutTsx);
    const listening = await broker.waitForLog((line) => line.msg === 'cashew broker listening');
    const ports = listening.ports as { mqtts: number; wss: number };
    mqttsPort = ports.mqtts;
    const handlerEnv = { CASHEW_URL: `mqtts://localhost:${ports.mqtts}` };
    greeter = startInProject(project, ['cashew', 'handler', TS_HANDLER], { ...env, ...handlerEnv });
    adder = startInProject(project, ['cashew', 'handler', JS_HANDLER], { ...envWithoutTsx, ...handlerEnv });
    legacy = startInProject(project, ['cashew', 'handler', COMMONJS_HANDLER], { ...env, ...handlerEnv });
    await Promise.all(
      [greeter, adder, legacy].map((handler) => handler.waitForLog((line) => line.msg === 'handler ready')),
    );

    const device = await runInProject(project, process.execPath, [DEVICE_SCRIPT], {
      ...env,
      WSS_URL: `wss://localhost:${ports.wss}/mqtt`,
      CA_FILE: join(workDir, 'certs', 'ca.crt'),
    });
    expect(device.stderr).toBe('');
    expect(JSON.parse(device.stdout)).toEqual({
      greet: { greeting: 'hello Grace' },
      sum: { sum: 6 },
      hello: 'hello from commonjs',
      refused: { code: 'ERR_HANDLER', name: 'HandlerError' },
      event: { name: 'Grace' },
    });
  }, 60_000);

  it('Ctrl-C (SIGINT to the process group) stops `npx cashew handler` after draining', async () => {
    process.kill(-(greeter.child.pid ?? 0), 'SIGINT');
    await greeter.waitForLog((line) => line.msg === 'handler stopped', 15_000);
    await greeter.closed;
  });

  it('SIGTERM to `npx cashew …` stops a handler, then the broker, gracefully; the port is freed', async () => {
    for (const handler of [adder, legacy]) handler.child.kill('SIGTERM');
    for (const handler of [adder, legacy]) {
      await handler.waitForLog((line) => line.msg === 'handler stopped', 15_000);
      await handler.closed;
    }
    broker.child.kill('SIGTERM');
    await broker.waitForLog((line) => line.msg === 'stopping', 15_000);
    await broker.closed;
    const refused = await new Promise<string>((resolve) => {
      const socket = connectTcp(mqttsPort, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
  });

  it('runs the vitest test of docs/handlers.md against a broker started from the installed package', async () => {
    const result = await runInProject(project, 'npx', ['vitest', 'run', HANDLER_TEST], env, 90_000);
    expect(result.stdout).toContain('2 passed');
    expect(result.code).toBe(0);
  }, 90_000);

  it('type-checks TypeScript against the shipped declarations (Node and browser conditions)', async () => {
    const [node, browser] = await typeChecks;
    expect(node!.stdout + node!.stderr).toBe('');
    expect(browser!.stdout + browser!.stderr).toBe('');
    const resolved = await runInProject(
      project,
      process.execPath,
      [
        '--conditions=browser',
        '--input-type=module',
        '-e',
        "console.log(import.meta.resolve('cashew/client'))",
      ],
      env,
    );
    expect(resolved.stdout.trim()).toMatch(/\/node_modules\/cashew\/dist\/browser\/cashew-sdk\.js$/);
  }, 120_000);
});
