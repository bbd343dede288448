// Start-up is all or nothing: what startBroker has started so far is recorded here, and stopped in
// reverse order when a later step fails, so that a failed start leaves no listener, timer or Redis
// connection behind and the process can exit by itself.
type Stop = () => Promise<void> | void;

export class StartRollback {
  readonly #stops: Stop[] = [];

  /** Records how to stop what was just started. */
  add(stop: Stop): void {
    this.#stops.push(stop);
  }

  /** Stops everything recorded, last first; one that fails to stop does not keep the others running. */
  async run(onError: (error: unknown) => void): Promise<void> {
    for (const stop of this.#stops.splice(0).reverse()) {
      try {
        await stop();
      } catch (error) {
        onError(error);
      }
    }
  }
}
