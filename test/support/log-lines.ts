// JSON log lines of a broker (in-process sink or child process stdout), recorded in order, with a
// wait for the first line that matches.
export type LogLine = Record<string, unknown>;

interface Waiter {
  readonly match: (line: LogLine) => boolean;
  readonly resolve: (line: LogLine) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class LogLines {
  readonly lines: LogLine[] = [];
  readonly #waiters = new Set<Waiter>();
  #partial = '';

  /** Feeds raw output; each complete line that parses as JSON is recorded, anything else is skipped. */
  feed(text: string): void {
    const parts = (this.#partial + text).split('\n');
    this.#partial = parts.pop() ?? '';
    for (const part of parts) {
      if (part.trim() === '') continue;
      let line: LogLine;
      try {
        line = JSON.parse(part) as LogLine;
      } catch {
        continue;
      }
      this.lines.push(line);
      for (const waiter of this.#waiters) {
        if (!waiter.match(line)) continue;
        this.#settle(waiter);
        waiter.resolve(line);
      }
    }
  }

  /** The first recorded or future line that matches; rejects after `timeoutMs` with `context()` appended. */
  waitFor(
    match: (line: LogLine) => boolean,
    timeoutMs: number,
    context: () => string = () => '',
  ): Promise<LogLine> {
    const seen = this.lines.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#settle(waiter);
          reject(new Error(`no matching log line within ${timeoutMs} ms${context()}`));
        }, timeoutMs),
      };
      this.#waiters.add(waiter);
    });
  }

  /** Rejects every pending wait (the process behind the lines has exited). */
  failAll(reason: string): void {
    for (const waiter of this.#waiters) {
      this.#settle(waiter);
      waiter.reject(new Error(reason));
    }
  }

  #settle(waiter: Waiter): void {
    clearTimeout(waiter.timer);
    this.#waiters.delete(waiter);
  }
}
