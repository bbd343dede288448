// `npm run build` (also `prepare`, so `npm ci` leaves a built dist/): the compiled JavaScript and its
// declarations in dist/ (tsconfig.build.json), the client SDK's browser bundle with its types in
// dist/browser/, then dist/.build-stamp, written last (bin/build-freshness.js). Outputs of a previous
// build are removed first, so a deleted source leaves no module behind in the package.
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { BUILD_STAMP, PACKAGE_ROOT, SOURCE_FOLDERS } from '../bin/build-freshness.js';

const DIST = join(PACKAGE_ROOT, 'dist');
const BROWSER_DIR = join(DIST, 'browser');
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const BUILD_TIMEOUT_MS = 120_000;

await rm(BUILD_STAMP, { force: true });
for (const folder of [...SOURCE_FOLDERS, 'browser'])
  await rm(join(DIST, folder), { recursive: true, force: true });

await promisify(execFile)(process.execPath, [TSC, '-p', join(PACKAGE_ROOT, 'tsconfig.build.json')], {
  cwd: PACKAGE_ROOT,
  timeout: BUILD_TIMEOUT_MS,
}).catch((error: { stdout?: string; message: string }) => {
  process.stderr.write(`${error.stdout ?? ''}build: tsc failed\n`);
  process.exit(1);
});

// The same entry as `cashew/client`, for browsers: ESM with mqtt.js' browser build inside.
await build({
  entryPoints: [join(PACKAGE_ROOT, 'client-sdk', 'index.ts')],
  outfile: join(BROWSER_DIR, 'cashew-sdk.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2020'],
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
});
await mkdir(BROWSER_DIR, { recursive: true });
// The bundle exports exactly what client-sdk/index.ts exports: its types are that module's.
await writeFile(join(BROWSER_DIR, 'cashew-sdk.d.ts'), "export * from '../client-sdk/index.js';\n");

await writeFile(BUILD_STAMP, `${new Date().toISOString()}\n`);
process.stdout.write('build: dist/ is up to date\n');
