// Runs the real `cashew` command as a child process, with a clean environment (no settings inherited,
// no `.env` picked up: the working directory is a fresh temp dir).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SETTINGS } from '../../broker/index.ts';
import { LogLines } from './log-lines.ts';

export const CASHEW_BIN = fileURLToPath(new URL('../../bin/cashew.js', import.meta.url));

/** process.env without any Cashew setting, plus the given ones. */
export function cleanEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of SETTINGS) delete env[name];
  return { ...env, ...settings };
}

export interface CliProcess {
  readonly child: ChildProcess;
  /** stdout lines that parsed as JSON (the broker's logs). */
  readonly logLines: Record<string, unknown>[];
  readonly stderr: () => string;
  waitForLog(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** Resolves with the exit code (or the signal name) when the process ends. */
  readonly exited: Promise<number | string>;
  /** Kills the process if it still runs (for cleanup after a failure). */
  kill(): void;
}

export function spawnCli(args: string[], env: NodeJS.ProcessEnv): CliProcess {
  const child = spawn(process.execPath, [CASHEW_BIN, ...args], {
    cwd: mkdtempSync(join(tmpdir(), 'cashew-cwd-')),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = new LogLines();
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => log.feed(chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  void exited.then(() => log.failAll(`process exited; stderr: ${stderr}`));
  return {
    child,
    logLines: log.lines,
    stderr: () => stderr,
    waitForLog: (match, timeoutMs = 20_000) => log.waitFor(match, timeoutMs, () => `; stderr: ${stderr}`),
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** Runs a short command to its end; rejects after `timeoutMs`. */
export async function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 20_000,
): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CASHEW_BIN, ...args], {
    cwd: mkdtempSync(join(tmpdir(), 'cashew-cwd-')),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | string>((resolve) =>
    child.once('exit', (exitCode, signal) => resolve(exitCode ?? signal ?? 'unknown')),
  );
  clearTimeout(timer);
  return { code, stdout, stderr };
}
