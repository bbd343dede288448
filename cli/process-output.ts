// What a process writes, line by line (a child's stdout and stderr, or an in-process logger's sink):
// the raw text of each stream kept within a bound, JSON log lines parsed, and waits for the first
// line that matches — past or future — each with a timeout.
import { isRecord } from '../protocol/index.ts';

export type LogLine = Record<string, unknown>;
export type Stream = 'stdout' | 'stderr';

/** Default bound of the text kept per stream (the oldest is dropped first). */
export const DEFAULT_KEPT_CHARS = 8 * 1024 * 1024;

interface Waiter {
  /** The value to resolve with when the line matches, or undefined. */
  readonly test: (raw: string, json: LogLine | undefined) => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export interface OutputOptions {
  /** Text kept per stream; beyond it the oldest is dropped (JSON lines likewise, by count). */
  readonly keptChars?: number;
  /** Each complete line as it arrives. */
  readonly onLine?: (line: string, stream: Stream) => void;
}

export class LogLines {
  /** Every stdout line that parsed as a JSON object, in order. */
  readonly lines: LogLine[] = [];
  readonly #text: Record<Stream, string> = { stdout: '', stderr: '' };
  readonly #partial: Record<Stream, string> = { stdout: '', stderr: '' };
  /** Complete raw lines (both streams) kept for matching past lines, bounded like the text. */
  readonly #raw: string[] = [];
  readonly #waiters = new Set<Waiter>();
  readonly #keptChars: number;
  readonly #onLine: ((line: string, stream: Stream) => void) | undefined;
  #failed: string | undefined;

  constructor(options: OutputOptions = {}) {
    this.#keptChars = options.keptChars ?? DEFAULT_KEPT_CHARS;
    this.#onLine = options.onLine;
  }

  /** The text written to a stream (its most recent `keptChars`). */
  text(stream: Stream = 'stdout'): string {
    return this.#text[stream];
  }

  /** The last `count` lines of both streams, for failure messages. */
  tail(count = 20): string {
    return this.#raw.slice(-count).join('\n');
  }

  /** Feeds raw output; each complete line is recorded, and matched against the pending waits. */
  feed(chunk: string, stream: Stream = 'stdout'): void {
    this.#text[stream] = keepLast(this.#text[stream] + chunk, this.#keptChars);
    const parts = (this.#partial[stream] + chunk).split('\n');
    this.#partial[stream] = parts.pop() ?? '';
    for (const part of parts) this.#line(part, stream);
  }

  /** The stream ended: a last line without a newline counts as a line. */
  end(stream: Stream): void {
    const rest = this.#partial[stream];
    this.#partial[stream] = '';
    if (rest !== '') this.#line(rest, stream);
  }

  /** The first recorded or future JSON line that matches; rejects after `timeoutMs` with `context()` appended. */
  waitFor(
    match: (line: LogLine) => boolean,
    timeoutMs: number,
    context: () => string = () => '',
  ): Promise<LogLine> {
    const seen = this.lines.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return this.#wait((_raw, json) => (json !== undefined && match(json) ? json : undefined), {
      timeoutMs,
      timeoutMessage: () => `no matching log line within ${timeoutMs} ms${context()}`,
    });
  }

  /** The first recorded or future raw line (either stream) that contains `text` or matches it. */
  waitForText(text: string | RegExp, timeoutMs: number, context: () => string = () => ''): Promise<string> {
    const matches = (raw: string): boolean =>
      typeof text === 'string' ? raw.includes(text) : text.test(raw);
    const seen = this.#raw.find(matches);
    if (seen !== undefined) return Promise.resolve(seen);
    return this.#wait((raw) => (matches(raw) ? raw : undefined), {
      timeoutMs,
      timeoutMessage: () => `no output matching ${String(text)} within ${timeoutMs} ms${context()}`,
    });
  }

  /** Rejects every pending wait, and every later one (the process behind the lines has exited). */
  failAll(reason: string): void {
    this.#failed = reason;
    for (const waiter of this.#waiters) {
      this.#settle(waiter);
      waiter.reject(new Error(reason));
    }
  }

  #wait<T>(
    test: (raw: string, json: LogLine | undefined) => T | undefined,
    how: { timeoutMs: number; timeoutMessage: () => string },
  ): Promise<T> {
    if (this.#failed !== undefined) return Promise.reject(new Error(this.#failed));
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        test,
        resolve: (value) => resolve(value as T),
        reject,
        timer: setTimeout(() => {
          this.#settle(waiter);
          reject(new Error(how.timeoutMessage()));
        }, how.timeoutMs),
      };
      this.#waiters.add(waiter);
    });
  }

  #line(raw: string, stream: Stream): void {
    if (raw.trim() === '') return;
    this.#raw.push(raw);
    let json: LogLine | undefined;
    if (stream === 'stdout') {
      json = parseObject(raw);
      if (json !== undefined) this.lines.push(json);
    }
    this.#bound();
    this.#onLine?.(raw, stream);
    for (const waiter of this.#waiters) {
      const value = waiter.test(raw, json);
      if (value === undefined) continue;
      this.#settle(waiter);
      waiter.resolve(value);
    }
  }

  /** Keeps the line lists within about as many lines as the text bound allows (80 characters a line). */
  #bound(): void {
    const maxLines = Math.max(100, Math.floor(this.#keptChars / 80));
    if (this.#raw.length > maxLines * 2) this.#raw.splice(0, this.#raw.length - maxLines);
    if (this.lines.length > maxLines * 2) this.lines.splice(0, this.lines.length - maxLines);
  }

  #settle(waiter: Waiter): void {
    clearTimeout(waiter.timer);
    this.#waiters.delete(waiter);
  }
}

function keepLast(text: string, chars: number): string {
  return text.length > chars ? text.slice(text.length - chars) : text;
}

function parseObject(raw: string): LogLine | undefined {
  if (!raw.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(raw);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
