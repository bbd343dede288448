// Settings for every command: the environment (with `.env` honoured) overridden by flags.
// A flag is the setting's name in kebab case: MQTTS_PORT ↔ --mqtts-port.
import { existsSync } from 'node:fs';
import { SETTINGS, settingsFromEnv, type Settings } from '../broker/options.ts';

export function loadDotEnv(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path);
}

export function flagOf(setting: string): string {
  return setting.toLowerCase().replaceAll('_', '-');
}

/** `parseArgs` option declarations for every setting. */
export const SETTING_FLAGS = Object.fromEntries(
  SETTINGS.map((name) => [flagOf(name), { type: 'string' as const }]),
);

export function settingsFrom(env: NodeJS.ProcessEnv, flags: Record<string, unknown>): Settings {
  const settings = settingsFromEnv(env);
  for (const name of SETTINGS) {
    const value = flags[flagOf(name)];
    if (typeof value === 'string') settings[name] = value;
  }
  return settings;
}
