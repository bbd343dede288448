// A command line that cannot mean anything (an unknown flag, a missing argument, contradictory
// flags): `cashew` prints its message as one line and exits 2. Never crosses the wire, so it is not in
// the protocol's error catalogue; everything else that fails (settings, start-up) exits 1.
export const USAGE_EXIT_CODE = 2;

export class UsageError extends Error {
  readonly code = 'ERR_USAGE';
  override readonly name = 'UsageError';
}

/** `node:util` parseArgs' own errors (unknown flag, missing value) are usage errors too. */
export function isUsageError(error: unknown): boolean {
  if (error instanceof UsageError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}
