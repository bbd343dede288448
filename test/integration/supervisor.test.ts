// cli/supervisor.ts with real child processes (small `node -e` programs): ready lines awaited with a
// timeout, an exit before the line rejects with the output, SIGKILL after an ignored SIGTERM, a
// command that cannot start, IPC messages, and stop-all.
import { afterAll, describe, expect, it } from 'vitest';
import { runToEnd, stopAll, supervise, type Supervised } from '../../cli/supervisor.ts';

function node(name: string, program: string, ipc = false): Supervised {
  return supervise({ name, command: process.execPath, args: ['-e', program], ipc });
}

/** A program that keeps running (until signalled). */
const STAY = 'setInterval(() => {}, 1000);';

afterAll(async () => {
  await stopAll(undefined, { signal: 'SIGKILL' });
});

describe('the supervisor', () => {
  it('resolves with the first JSON line that matches, one already written or one to come', async () => {
    const child = node(
      'json',
      `console.log('not json'); console.log(JSON.stringify({ msg: 'first' }));
       setTimeout(() => console.log(JSON.stringify({ msg: 'ready', port: 7 })), 50); ${STAY}`,
    );
    await expect(child.waitForLine((line) => line.msg === 'ready', 5000)).resolves.toMatchObject({ port: 7 });
    await expect(child.waitForLine((line) => line.msg === 'first', 100)).resolves.toEqual({ msg: 'first' });
    expect(child.lines.map((line) => line.msg)).toEqual(['first', 'ready']);
    expect(child.stdout()).toContain('not json\n');
    expect(await child.stop()).toBe('SIGTERM');
  });

  it('rejects a ready wait after its timeout with ERR_TIMEOUT and the output so far, the process still running', async () => {
    const child = node('silent', `console.error('warming up'); ${STAY}`);
    await child.waitForText('warming up', 5000);
    const wait = child.waitForLine((line) => line.msg === 'ready', 200);
    await expect(wait).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    await expect(wait).rejects.toThrow(/silent: .*within 200 ms[\s\S]*warming up/);
    expect(child.running).toBe(true);
    await child.stop();
  });

  it('rejects a ready wait with ERR_START_FAILED and the output when the process exits first', async () => {
    const child = node('crashing', `console.error('cannot bind: EADDRINUSE'); process.exit(3);`);
    const wait = child.waitForLine((line) => line.msg === 'ready', 10_000);
    await expect(wait).rejects.toMatchObject({ code: 'ERR_START_FAILED' });
    await expect(wait).rejects.toThrow(/crashing exited \(3\)[\s\S]*cannot bind: EADDRINUSE/);
    expect(await child.exited).toBe(3);
    expect(child.stderr()).toBe('cannot bind: EADDRINUSE\n');
    // a wait started after the exit fails at once, too
    await expect(child.waitForText('anything', 10_000)).rejects.toMatchObject({ code: 'ERR_START_FAILED' });
  });

  it('sends SIGKILL when SIGTERM is ignored for longer than the stop timeout', async () => {
    const child = node(
      'stubborn',
      `process.on('SIGTERM', () => console.log('ignoring SIGTERM')); console.log('armed'); ${STAY}`,
    );
    await child.waitForText('armed', 5000);
    const started = Date.now();
    expect(await child.stop({ timeoutMs: 300 })).toBe('SIGKILL');
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(child.stdout()).toContain('ignoring SIGTERM');
  });

  it('reports a command that cannot start as `spawn failed`, and rejects waits with the reason', async () => {
    const child = supervise({ command: '/nonexistent/cashew-test-binary' });
    const wait = child.waitForText('ready', 10_000);
    expect(await child.exited).toBe('spawn failed');
    await expect(wait).rejects.toMatchObject({ code: 'ERR_START_FAILED' });
    await expect(wait).rejects.toThrow(/ENOENT/);
  });

  it('waits for IPC messages with the same timeout and exit rules', async () => {
    const child = node(
      'ipc',
      `setTimeout(() => process.send({ type: 'ready', port: 9 }), 50); ${STAY}`,
      true,
    );
    const ready = await child.waitFor<{ type: string; port: number }>('ready message', (deliver) => {
      const onMessage = (message: unknown): void => deliver(message as { type: string; port: number });
      child.child.on('message', onMessage);
      return () => child.child.off('message', onMessage);
    });
    expect(ready).toEqual({ type: 'ready', port: 9 });
    await expect(child.waitFor('never', () => () => undefined, 100)).rejects.toMatchObject({
      code: 'ERR_TIMEOUT',
    });
    await child.stop();
  });

  it('runs a command to its end, killed after killAfterMs', async () => {
    const finished = await runToEnd({
      command: process.execPath,
      args: ['-e', "process.stdout.write('out'); console.error('err')"],
    });
    expect(finished).toEqual({ status: 0, stdout: 'out', stderr: 'err\n' });
    const killed = await runToEnd({ command: process.execPath, args: ['-e', STAY], killAfterMs: 200 });
    expect(killed.status).toBe('SIGKILL');
  });

  it('stops every process still running with stopAll', async () => {
    const children = [node('a', STAY), node('b', STAY)];
    expect(children.every((child) => child.running)).toBe(true);
    expect(await stopAll(children)).toEqual(['SIGTERM', 'SIGTERM']);
    expect(children.some((child) => child.running)).toBe(false);
  });
});
