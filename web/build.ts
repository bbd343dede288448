// Builds the demo web app into dist/web: the client SDK's browser bundle (`cashew-sdk.js`, ESM, with
// mqtt.js' browser build inside), the app (`app.js`, which imports the SDK from that bundle), and the
// static page. `npm run build:web`; the broker serves the result on https://<host>:8884/demo/.
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions, Plugin } from 'esbuild';
import { DEFAULT_DEMO_DIR } from '../broker/dev/demo-page.ts';

const SOURCE_DIR = fileURLToPath(new URL('.', import.meta.url));
const SDK_ENTRY = fileURLToPath(new URL('../client-sdk/index.ts', import.meta.url));
export const SDK_BUNDLE = 'cashew-sdk.js';

/** The app imports `../client-sdk/index.ts`; in the browser that is the SDK bundle next to it. */
const sdkFromBundle: Plugin = {
  name: 'cashew-sdk-from-bundle',
  setup(build) {
    build.onResolve({ filter: /client-sdk\/index\.ts$/ }, () => ({
      path: `./${SDK_BUNDLE}`,
      external: true,
    }));
  },
};

const COMMON: BuildOptions = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  legalComments: 'none',
  logLevel: 'warning',
};

export async function buildDemoApp(outdir: string = DEFAULT_DEMO_DIR): Promise<string> {
  const { build } = await import('esbuild');
  await mkdir(outdir, { recursive: true });
  // The same bundle as `npm run build:sdk` (dist/browser/cashew-sdk.js): same entry, format and target.
  await build({
    ...COMMON,
    target: ['es2020'],
    minify: true,
    entryPoints: [SDK_ENTRY],
    outfile: join(outdir, SDK_BUNDLE),
  });
  await build({
    ...COMMON,
    entryPoints: [join(SOURCE_DIR, 'app.ts')],
    outfile: join(outdir, 'app.js'),
    plugins: [sdkFromBundle],
  });
  for (const file of ['index.html', 'style.css']) await copyFile(join(SOURCE_DIR, file), join(outdir, file));
  return outdir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outdir = await buildDemoApp(process.argv[2]);
  process.stdout.write(`demo app built in ${outdir}\n`);
}
