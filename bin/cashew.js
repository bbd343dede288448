#!/usr/bin/env node
// The `cashew` command: runs the compiled CLI (dist/cli/main.js), with no TypeScript loader at start.
// In a source checkout (cli/main.ts beside bin/) it runs the sources through tsx instead when
// CASHEW_SOURCE=1 (the tests set it) or when dist/ is missing or older than a source file, so a stale
// build never runs. A TypeScript handler module loads tsx itself (cli/handler-command.ts).
import { existsSync } from 'node:fs';

async function runsFromSource() {
  if (!existsSync(new URL('../cli/main.ts', import.meta.url))) return false;
  if (process.env.CASHEW_SOURCE === '1') return true;
  const { isBuildFresh } = await import('./build-freshness.js');
  return !isBuildFresh();
}

async function loadCli() {
  if (await runsFromSource()) {
    const { register } = await import('tsx/esm/api');
    register();
    return import('../cli/main.ts');
  }
  return import('../dist/cli/main.js');
}

const { main } = await loadCli();
process.exitCode = await main(process.argv.slice(2));
