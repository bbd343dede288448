// Where Cashew's own files are, whether it runs from the TypeScript sources (a checkout, through tsx)
// or from the compiled build (dist/, also inside an installed package): the build keeps the source
// layout under dist/, so this module is <root>/broker/dev/ or <root>/dist/broker/dev/.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(import.meta.url);

/** True when Cashew runs from its TypeScript sources, false when it runs from dist/. */
export const FROM_SOURCE = HERE.endsWith('.ts');

/** The package's root directory (package.json, bin/, dist/). */
export const PACKAGE_ROOT = join(dirname(HERE), ...(FROM_SOURCE ? ['..', '..'] : ['..', '..', '..']));

/** The `cashew` command, for starting Cashew's own child processes (`node <CASHEW_BIN> broker`). */
export const CASHEW_BIN = join(PACKAGE_ROOT, 'bin', 'cashew.js');

/** A module of the package by its source path (`handlers/examples/ping.ts`): that file, or its build. */
export function packageModule(sourcePath: string): string {
  return FROM_SOURCE
    ? join(PACKAGE_ROOT, sourcePath)
    : join(PACKAGE_ROOT, 'dist', sourcePath.replace(/\.ts$/, '.js'));
}
