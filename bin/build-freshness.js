// Whether dist/ is the build of the sources as they are now. `npm run build` writes dist/.build-stamp
// last; any build input changed after it (a .ts file of a compiled folder, package.json, a tsconfig)
// makes the build stale. Only a source checkout asks: an installed package has no sources.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BUILD_STAMP = join(PACKAGE_ROOT, 'dist', '.build-stamp');
/** The folders `tsconfig.build.json` compiles. */
export const SOURCE_FOLDERS = ['broker', 'handlers', 'client-sdk', 'protocol', 'cli', 'certs'];
const BUILD_FILES = ['package.json', 'tsconfig.json', 'tsconfig.build.json'];

/** The newest modification time (ms) of any build input. */
export function newestBuildInput() {
  let newest = 0;
  for (const file of BUILD_FILES) newest = Math.max(newest, statSync(join(PACKAGE_ROOT, file)).mtimeMs);
  for (const folder of SOURCE_FOLDERS) {
    for (const entry of readdirSync(join(PACKAGE_ROOT, folder), { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith('.ts'))
        newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
    }
  }
  return newest;
}

/** True when dist/ was built after the last change to any build input. */
export function isBuildFresh() {
  return existsSync(BUILD_STAMP) && statSync(BUILD_STAMP).mtimeMs >= newestBuildInput();
}
