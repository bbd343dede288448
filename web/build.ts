// Builds the demo web app into dist/web: index.html and style.css copied, app.ts bundled with esbuild
// together with the client SDK (and mqtt.js' browser build). `npm run build:web`; the broker serves
// the result on https://<host>:8884/demo/.
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_DEMO_DIR } from '../broker/demo-page.ts';

const SOURCE_DIR = fileURLToPath(new URL('.', import.meta.url));

export async function buildDemoApp(outdir: string = DEFAULT_DEMO_DIR): Promise<string> {
  const { build } = await import('esbuild');
  await mkdir(outdir, { recursive: true });
  await build({
    entryPoints: [join(SOURCE_DIR, 'app.ts')],
    outfile: join(outdir, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    sourcemap: false,
    minify: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'style.css']) await copyFile(join(SOURCE_DIR, file), join(outdir, file));
  return outdir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outdir = await buildDemoApp(process.argv[2]);
  process.stdout.write(`demo app built in ${outdir}\n`);
}
