// The files of the outside project: the handler and its vitest test from docs/handlers.md (as they
// are written there), a handler in JavaScript, a device script on the installed SDK, files that
// type-check against the shipped declarations (Node and browser conditions), and a hook that fails
// any process that loads tsx.
import { docExample } from '../support/doc-examples.ts';

export const TS_HANDLER = 'greet.ts';
export const HANDLER_TEST = 'greet.test.ts';
export const JS_HANDLER = 'sum.js';
/** A .ts handler in a CommonJS folder (no "type": "module"): tsx loads it as CommonJS. */
export const COMMONJS_HANDLER = 'legacy/hello.ts';
export const DEVICE_SCRIPT = 'device.mjs';
export const NO_TSX_HOOK = 'no-tsx.mjs';

const files: Record<string, string> = {
  [TS_HANDLER]: docExample('handlers.md', 'handler-module'),
  [HANDLER_TEST]: docExample('handlers.md', 'handler-test'),
  [JS_HANDLER]: `import { defineHandler } from 'cashew/handlers';

export default defineHandler({
  name: 'adder',
  commands: {
    sum: ({ data }) => ({ sum: data.reduce((total, n) => total + n, 0) }),
  },
});
`,
  'legacy/package.json': JSON.stringify({ type: 'commonjs' }),
  [COMMONJS_HANDLER]: `import { defineHandler } from 'cashew/handlers';

export default defineHandler({ name: 'legacy', commands: { hello: () => 'hello from commonjs' } });
`,
  [DEVICE_SCRIPT]: `// A device on the installed SDK: one request to each handler, one that fails; prints the outcomes.
import { readFileSync } from 'node:fs';
import { signDevToken } from 'cashew';
import { connect, isCashewError } from 'cashew/client';

const token = signDevToken({ user: 'ada' }, { secret: process.env.JWT_SECRET });
const client = await connect({
  url: process.env.WSS_URL,
  token,
  clientIdSuffix: 'device',
  mqtt: { ca: readFileSync(process.env.CA_FILE) },
});
const greeted = new Promise((resolve) => client.observe('greeted', resolve));
const outcome = {
  greet: await client.request('greet', { name: 'Grace' }, { timeout: 10000 }),
  sum: await client.request('sum', [1, 2, 3], { timeout: 10000 }),
  hello: await client.request('hello', null, { timeout: 10000 }),
  refused: await client.request('greet', { name: '' }, { timeout: 10000 }).then(
    () => 'resolved',
    (error) => (isCashewError(error) ? { code: error.code, name: error.name } : String(error)),
  ),
  event: await greeted,
};
await client.close();
process.stdout.write(JSON.stringify(outcome) + '\\n');
`,
  [NO_TSX_HOOK]: `// Preloaded with --import: any resolution of tsx fails the process.
import { register } from 'node:module';

const hook = \`export async function resolve(specifier, context, next) {
  if (/^tsx(\\\\/|$)/.test(specifier)) throw new Error('tsx was loaded: ' + specifier);
  return next(specifier, context);
}\`;
register('data:text/javascript,' + encodeURIComponent(hook));
`,
  'tsconfig.json': JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      allowImportingTsExtensions: true,
      types: ['node'],
    },
    include: ['*.ts', 'check/*.ts'],
  }),
  'check/api.ts': `import {
  resolveOptions,
  settingsFromEnv,
  signDevToken,
  startBroker,
  type BrokerOptions,
  type RunningBroker,
} from 'cashew';
import { defineHandler, runHandler, type Handler, type RunningHandler } from 'cashew/handlers';
import { connect, type CashewClient, type ConnectOptions } from 'cashew/client';

export const options: BrokerOptions = resolveOptions({ ...settingsFromEnv(process.env), MQTTS_PORT: '0' });
export const broker: Promise<RunningBroker> = startBroker(options);
export const handler: Handler = defineHandler({ name: 'x', commands: { y: () => 1 } });
export function serve(logger: Parameters<typeof runHandler>[1]['logger']): Promise<RunningHandler> {
  return runHandler(handler, { url: 'mqtts://localhost', getToken: () => signDevToken({ user: 'u' }, { secret: 's' }), logger });
}
const connectOptions: ConnectOptions = { url: 'wss://localhost/mqtt', token: 't' };
export const client: Promise<CashewClient> = connect(connectOptions);
`,
  'tsconfig.browser.json': JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      module: 'ESNext',
      moduleResolution: 'Bundler',
      customConditions: ['browser'],
      lib: ['ES2023', 'DOM'],
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      types: [],
    },
    include: ['browser/*.ts'],
  }),
  'browser/app.ts': `import { connect, type CashewClient } from 'cashew/client';

export async function start(token: string): Promise<CashewClient> {
  const client = await connect({ url: \`wss://\${location.host}/mqtt\`, token });
  await client.observe<{ name: string }>('greeted', (data) => console.log(data.name));
  return client;
}
`,
};

export const PROJECT_FILES: Readonly<Record<string, string>> = files;
