// The `cashew` command: one subcommand per file, each loaded only when it runs (`cashew token` never
// loads the broker), errors printed as one line. Exit codes: 0 done, 1 failed (settings, start-up, a
// process that did not stop cleanly), 2 a command line that cannot mean anything (cli/usage-error.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../broker/dev/package-files.ts';
import { isCashewError } from '../protocol/index.ts';
import { stopWhenParentExits } from './parent-watch.ts';
import { loadDotEnv } from './settings.ts';
import { isUsageError, UsageError, USAGE_EXIT_CODE } from './usage-error.ts';

interface Command {
  readonly usage: string;
  readonly run: (args: string[]) => Promise<number>;
}

const COMMANDS: Readonly<Record<string, { summary: string; load: () => Promise<Command> }>> = {
  broker: {
    summary: 'start the broker (MQTT over TLS :8883, MQTT over WSS :8884/mqtt)',
    load: async () => {
      const { brokerCommand, USAGE } = await import('./broker-command.ts');
      return { usage: USAGE, run: brokerCommand };
    },
  },
  token: {
    summary: 'sign a dev token for a user or a handler',
    load: async () => {
      const { tokenCommand, USAGE } = await import('./token-command.ts');
      return { usage: USAGE, run: (args) => tokenCommand(args) };
    },
  },
  handler: {
    summary: 'run one handler module as its own process (cashew handler my-handler.js)',
    load: async () => {
      const { handlerCommand, USAGE } = await import('./handler-command.ts');
      return { usage: USAGE, run: handlerCommand };
    },
  },
  demo: {
    summary: 'run the broker, the example handlers and a simulated device, print the flow, stop',
    load: async () => {
      const { demoCommand, USAGE } = await import('./demo-command.ts');
      return { usage: USAGE, run: demoCommand };
    },
  },
  admin: {
    summary: 'operate a running broker: list, show, kick, ban, unban, revoke (docs/operations.md)',
    load: async () => {
      const { adminCommand, USAGE } = await import('./admin-command.ts');
      return { usage: USAGE, run: adminCommand };
    },
  },
  cluster: {
    summary: 'N local brokers on one Redis, for trying scale-out (--nodes 3; docs/scaling.md)',
    load: async () => {
      const { clusterCommand, USAGE } = await import('./cluster-command.ts');
      return { usage: USAGE, run: clusterCommand };
    },
  },
};

export const COMMAND_NAMES = Object.keys(COMMANDS);

const USAGE = `usage: cashew <command> [flags]     cashew <command> --help     cashew --version
${Object.entries(COMMANDS)
  .map(([name, { summary }]) => `  ${name.padEnd(9)} ${summary}`)
  .join('\n')}
Settings come from the environment, a .env file, or flags (--mqtts-port 0). See docs/configuration.md.
Exit codes: 0 done, 1 failed, 2 a command line that cannot mean anything.`;

export function version(): string {
  const manifest = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

const wantsHelp = (args: readonly string[]): boolean => args.includes('--help') || args.includes('-h');

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (name === undefined || wantsHelp([name])) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (entry === undefined) {
    process.stderr.write(`cashew: unknown command ${JSON.stringify(name)} (cashew --help lists them)\n`);
    return USAGE_EXIT_CODE;
  }
  const command = await entry.load();
  if (wantsHelp(args)) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  loadDotEnv();
  stopWhenParentExits();
  try {
    return await command.run(args);
  } catch (error) {
    const message =
      isCashewError(error) || error instanceof TypeError || error instanceof UsageError
        ? error.message
        : String(error);
    process.stderr.write(`cashew ${name}: ${message}\n`);
    return isUsageError(error) ? USAGE_EXIT_CODE : 1;
  }
}
