// `npx cashew …` and `npm start` run the command through a shell (`sh -c`, dash on Debian) that does
// not pass signals on: npm forwards SIGTERM/SIGINT to that shell, the shell dies, and the command
// would live on, orphaned. Under npm (npm_lifecycle_event set), a command whose parent goes away
// stops itself the way a SIGTERM stops it. Outside npm nothing is watched, so `cashew broker &` in a
// script that exits keeps running, as a shell user expects.
export const PARENT_WATCH_INTERVAL_MS = 200;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: an existence check, nothing is sent
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function stopWhenParentExits(env: NodeJS.ProcessEnv = process.env): void {
  if (env.npm_lifecycle_event === undefined) return;
  const parent = process.ppid; // read once at start by Node, not updated when the parent goes away
  const timer = setInterval(() => {
    if (isAlive(parent)) return;
    clearInterval(timer);
    process.kill(process.pid, 'SIGTERM');
  }, PARENT_WATCH_INTERVAL_MS);
  timer.unref();
}
