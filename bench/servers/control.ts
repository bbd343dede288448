// The parent's control channel to a benchmarked Node broker: ready (with ports), gc, stop.
declare const gc: (() => void) | undefined;

export function serveBenchControl(
  ports: Record<string, number | undefined>,
  close: () => Promise<void>,
): void {
  process.on('message', (message: { type: string }) => {
    if (message.type === 'gc') {
      if (typeof gc === 'function') {
        gc();
        gc();
      }
      // Let finalizers and freed sockets settle, then collect once more.
      setTimeout(() => {
        if (typeof gc === 'function') gc();
        process.send?.({ type: 'gc-done', memory: process.memoryUsage() });
      }, 200);
    } else if (message.type === 'stop') {
      const timer = setTimeout(() => process.exit(0), 3000);
      void close().finally(() => {
        clearTimeout(timer);
        process.exit(0);
      });
    }
  });
  // The benchmark that started this broker is gone (killed, crashed): do not linger.
  process.on('disconnect', () => process.exit(0));
  process.send?.({ type: 'ready', ports });
}
