// Every wait has a timeout: a promise raced against a timer that is always cleared.

/**
 * Settles like `promise`, or rejects with `onTimeout()`'s error when `promise` has not settled within
 * `timeoutMs`. Non-Error rejections are wrapped in an Error.
 */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, onTimeout: () => Error): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), timeoutMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
