// A fresh project outside the repository with Cashew installed from `npm pack`, as a user gets it:
// nothing from the repository but the tarball. Commands run through that project's `npx`, each in
// its own process group so that a cleanup reaches npm, its shell and the command alike.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { execFile } from 'node:child_process';
import { isBuildFresh } from '../../bin/build-freshness.js';
import { REPO_ROOT } from '../support/processes.ts';
import { LogLines, type LogLine } from '../support/log-lines.ts';

const run = promisify(execFile);
const NPM_TIMEOUT_MS = 90_000;

export interface PackedFile {
  readonly path: string;
  readonly size: number;
}

export interface Tarball {
  readonly file: string;
  readonly size: number;
  readonly files: readonly PackedFile[];
}

/** `npm pack` of the repository, after a build when dist/ is older than the sources. */
export async function packRepository(destination: string): Promise<Tarball> {
  if (!isBuildFresh()) await run('npm', ['run', 'build'], { cwd: REPO_ROOT, timeout: NPM_TIMEOUT_MS });
  // --ignore-scripts: the build above is the one packed; `prepare` would rebuild under running tests.
  const { stdout } = await run(
    'npm',
    ['pack', '--ignore-scripts', '--json', '--pack-destination', destination],
    { cwd: REPO_ROOT, timeout: NPM_TIMEOUT_MS },
  );
  const [packed] = JSON.parse(stdout) as [{ filename: string; size: number; files: PackedFile[] }];
  return { file: join(destination, packed.filename), size: packed.size, files: packed.files };
}

async function repoVersion(name: string): Promise<string> {
  const manifest = JSON.parse(
    await readFile(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8'),
  ) as { version: string };
  return manifest.version;
}

/** A new project in a temp dir with the tarball; TypeScript and vitest at the repository's versions (npm cache). */
export async function createProject(tarball: string, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cashew-outside-'));
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'my-app', private: true, type: 'module' }, null, 2),
  );
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  const typescript = `typescript@${await repoVersion('typescript')}`;
  const nodeTypes = `@types/node@${await repoVersion('@types/node')}`;
  const vitest = `vitest@${await repoVersion('vitest')}`;
  await run(
    'npm',
    ['install', tarball, typescript, nodeTypes, vitest, '--prefer-offline', '--no-audit', '--no-fund'],
    { cwd: dir, timeout: NPM_TIMEOUT_MS },
  );
  return dir;
}

export interface ProjectProcess {
  readonly child: ChildProcess;
  readonly log: LogLines;
  output(): string;
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Resolves with the exit code or signal of the npx process itself. */
  readonly exited: Promise<number | string>;
  /** Resolves when stdout and stderr are closed: every process that held them has exited. */
  readonly closed: Promise<void>;
  /** SIGKILL to the whole process group (cleanup). */
  killGroup(): void;
}

const running = new Set<ProjectProcess>();

/** Starts `npx <args>` in the project, in a process group of its own. */
export function startInProject(dir: string, args: string[], env: NodeJS.ProcessEnv): ProjectProcess {
  const child = spawn('npx', args, { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = new LogLines();
  let text = '';
  const onData = (chunk: Buffer): void => {
    text += chunk.toString('utf8');
    log.feed(chunk.toString('utf8'));
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const handle: ProjectProcess = {
    child,
    log,
    output: () => text,
    waitForLog: (match, timeoutMs = 30_000) =>
      log.waitFor(match, timeoutMs, () => `; npx ${args.join(' ')} output:\n${text}`),
    exited,
    closed,
    killGroup: () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    },
  };
  running.add(handle);
  void closed.then(() => running.delete(handle));
  return handle;
}

export function killAll(): void {
  for (const handle of running) handle.killGroup();
}

/** Runs a command in the project to its end (killed after `timeoutMs`). */
export async function runInProject(
  dir: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(command, args, { cwd: dir, env, timeout: timeoutMs });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string };
    return {
      code: typeof failed.code === 'number' ? failed.code : -1,
      stdout: failed.stdout ?? '',
      stderr: failed.stderr ?? String(error),
    };
  }
}
