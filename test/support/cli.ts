// Runs the real `cashew` command as a child process (cli/supervisor.ts), with a clean environment
// (no settings inherited, no `.env` picked up: the working directory is a fresh temp dir).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SETTINGS } from '../../broker/index.ts';
import { runToEnd, supervise, type ExitStatus, type Supervised } from '../../cli/supervisor.ts';

export const CASHEW_BIN = fileURLToPath(new URL('../../bin/cashew.js', import.meta.url));

/** process.env without any Cashew setting, plus the given ones. */
export function cleanEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of SETTINGS) delete env[name];
  return { ...env, ...settings };
}

function cliOptions(args: string[], env: NodeJS.ProcessEnv) {
  return {
    name: `cashew ${args[0] ?? ''}`,
    command: process.execPath,
    args: [CASHEW_BIN, ...args],
    cwd: mkdtempSync(join(tmpdir(), 'cashew-cwd-')),
    env,
  };
}

/** `cashew <args>` running; its JSON log lines awaitable (`waitForLine`), stopped with `stop()`. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv): Supervised {
  return supervise(cliOptions(args, env));
}

/** Runs a short command to its end; SIGKILL after `timeoutMs`. */
export async function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 20_000,
): Promise<{ code: ExitStatus; stdout: string; stderr: string }> {
  const { status, stdout, stderr } = await runToEnd({ ...cliOptions(args, env), killAfterMs: timeoutMs });
  return { code: status, stdout, stderr };
}
