// Third-party clients come from Debian packages (.ci/run installs them). A test that needs one skips
// with a loud message when it is truly missing, and fails instead when CI=true: CI must run them all.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { it } from 'vitest';
import { supervise } from '../../cli/supervisor.ts';

export interface SystemTool {
  /** An absolute path, or a command name looked up on PATH. */
  readonly command: string;
  /** The Debian package that provides it. */
  readonly debianPackage: string;
  /** For interpreters: a probe that must succeed (e.g. `import paho.mqtt`). */
  readonly probe?: readonly string[];
}

function onPath(command: string): boolean {
  if (command.includes('/')) {
    try {
      accessSync(command, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** Whether every tool is installed (and its probe passes); prints a loud line for each one missing. */
export function toolsAvailable(...tools: SystemTool[]): boolean {
  const missing = tools.filter(
    (tool) =>
      !onPath(tool.command) ||
      (tool.probe !== undefined &&
        spawnSync(tool.command, [...tool.probe], { stdio: 'ignore', timeout: 10_000 }).status !== 0),
  );
  for (const tool of missing) {
    process.stderr.write(
      `\n!!! SKIPPING: ${tool.command} (Debian package ${tool.debianPackage}) is not installed.` +
        ` Run .ci/run or: sudo apt-get install ${tool.debianPackage}\n\n`,
    );
  }
  if (missing.length > 0 && process.env.CI === 'true') {
    it(`has the Debian packages it needs (CI=true): ${missing.map((tool) => tool.debianPackage).join(', ')}`, () => {
      throw new Error(`missing on this CI machine: ${missing.map((tool) => tool.debianPackage).join(', ')}`);
    });
  }
  return missing.length === 0;
}

export const MOSQUITTO_SUB: SystemTool = { command: 'mosquitto_sub', debianPackage: 'mosquitto-clients' };
export const MOSQUITTO_PUB: SystemTool = { command: 'mosquitto_pub', debianPackage: 'mosquitto-clients' };
/** Debian's python3, not a pyenv one first on PATH: python3-paho-mqtt is installed for this one. */
export const DEBIAN_PYTHON: SystemTool = {
  command: '/usr/bin/python3',
  debianPackage: 'python3-paho-mqtt',
  probe: ['-c', 'import paho.mqtt.client'],
};
export const PROMETHEUS: SystemTool = { command: 'prometheus', debianPackage: 'prometheus' };
export const PROMTOOL: SystemTool = { command: 'promtool', debianPackage: 'prometheus' };
export const CHROMIUM: SystemTool = { command: '/usr/bin/chromium', debianPackage: 'chromium' };

export interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A child process whose output is collected (cli/supervisor.ts), killed after its own timeout. */
export interface RunningTool {
  readonly child: ChildProcess;
  /** Resolves once a line of stdout or stderr contains the text; rejects on exit or timeout. */
  waitForOutput(text: string, timeoutMs?: number): Promise<void>;
  /** Resolves when the process exits (killed after `timeoutMs`). */
  readonly finished: Promise<Finished>;
  /** SIGTERM (SIGKILL if it lingers). */
  stop(): void;
}

export function startTool(
  command: string,
  args: readonly string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): RunningTool {
  const tool = supervise({
    command,
    args,
    killAfterMs: options.timeoutMs ?? 15_000,
    ...(options.env !== undefined && { env: options.env }),
    ...(options.cwd !== undefined && { cwd: options.cwd }),
  });
  const finished = tool.exited.then((status) => ({
    code: typeof status === 'number' ? status : null,
    stdout: tool.stdout(),
    stderr: tool.stderr(),
  }));
  return {
    child: tool.child,
    waitForOutput: async (text, timeoutMs = 10_000) => {
      await tool.waitForText(text, timeoutMs);
    },
    finished,
    stop: () => void tool.stop(),
  };
}

/** Runs a command to its end (killed after `timeoutMs`). */
export function runTool(
  command: string,
  args: readonly string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<Finished> {
  return startTool(command, args, options).finished;
}
