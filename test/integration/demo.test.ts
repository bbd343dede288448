// `npm run demo` (node bin/cashew.js demo): prints the flow, exits 0 and leaves no process behind.
import { expect, it } from 'vitest';
import { startProcess } from '../support/processes.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

it('runs the broker, five handler processes and a device, prints 9 apples, exits 0, stops everything', async () => {
  const demo = startProcess('demo', ['demo']);
  const code = await Promise.race([
    demo.exited,
    new Promise<string>((resolve) => setTimeout(() => resolve('timeout'), 90_000)),
  ]);
  if (code === 'timeout') await demo.stop('SIGKILL');
  const output = demo.text.join('\n');
  expect(code, output).toBe(0);
  expect(output).toContain('← 68946/got_apples from apples: 3 apples');
  expect(output).toContain('← 68946/got_more_apples from more-apples: 3 apples');
  expect(output).toContain('← 68946/got_more_apples from more-apples-store: 3 apples');
  expect(output).toContain('9 apples of 9 different colours in all');
  expect(output).toContain('← 68946/contact_approved {"by":"4711"}');
  expect(output).toContain('stopped 6 processes (exit codes 0, 0, 0, 0, 0, 0)');
  const pids = [...output.matchAll(/pid (\d+)/g)].map((match) => Number(match[1]));
  expect(pids).toHaveLength(6);
  expect(pids.filter(alive)).toEqual([]);
}, 100_000);
