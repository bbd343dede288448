// A throwaway local redis-server (for `cashew cluster`, tests and benchmarks): loopback only,
// nothing saved to disk, its working files in `dir`.
export const REDIS_SERVER_COMMAND = 'redis-server';

export function localRedisArgs(port: number, dir: string): string[] {
  return ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
}
