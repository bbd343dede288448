// The bench runs Cashew as `cashew broker` does: the compiled dist/, not the TypeScript sources through
// tsx. tsx compiles with esbuild's keepNames, which wraps every named closure and class-field function
// in a `__name(fn, "name")` call made each time the closure is created (per client, per packet): a cost
// the published package does not have. Each checkout measured (this one, or compare.ts' --before) is
// built when its dist/ is older than its sources.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const built = new Set<string>();

interface Freshness {
  isBuildFresh(): boolean;
}

/** Builds `root`'s dist/ (npm run build) unless it is the build of its sources as they are now. */
export async function ensureBuilt(root: string, log: (message: string) => void): Promise<void> {
  if (built.has(root)) return;
  const freshness = join(root, 'bin', 'build-freshness.js');
  const fresh =
    existsSync(freshness) && ((await import(pathToFileURL(freshness).href)) as Freshness).isBuildFresh();
  if (!fresh) {
    log(`building ${join(root, 'dist')} (older than its sources)…`);
    execFileSync(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'build.ts')], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  built.add(root);
}
