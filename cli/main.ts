// The `cashew` command: one subcommand per file, errors printed as one clear line.
import { isCashewError } from '../protocol/index.ts';
import { brokerCommand } from './broker-command.ts';
import { demoCommand } from './demo-command.ts';
import { clusterCommand } from './cluster-command.ts';
import { handlerCommand } from './handler-command.ts';
import { loadDotEnv } from './settings.ts';
import { tokenCommand } from './token-command.ts';

type Command = (args: string[]) => Promise<number>;

export const COMMANDS = new Map<string, Command>([
  ['broker', brokerCommand],
  ['token', tokenCommand],
  ['handler', handlerCommand],
  ['cluster', clusterCommand],
  ['demo', demoCommand],
]);

const USAGE = `usage: cashew <command> [flags]
  broker    start the broker (MQTT over TLS :8883, MQTT over WSS :8884/mqtt)
  token     sign a dev token for a user or a handler
  handler   run one handler module as its own process (cashew handler handlers/examples/ping.ts)
  demo      run the broker, the example handlers and a simulated device, print the flow, stop
  cluster   N local brokers on one Redis, for trying scale-out (--nodes 3; docs/scaling.md)
Settings come from the environment, a .env file, or flags (--mqtts-port 0). See docs/configuration.md.`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const command = name === undefined ? undefined : COMMANDS.get(name);
  if (command === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return name === undefined || name === '--help' ? 0 : 2;
  }
  loadDotEnv();
  try {
    return await command(args);
  } catch (error) {
    const message = isCashewError(error) || error instanceof TypeError ? error.message : String(error);
    process.stderr.write(`cashew ${name}: ${message}\n`);
    return 1;
  }
}
