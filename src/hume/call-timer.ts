/**
 * The clocks of one call: a deadline that can be moved (a transfer's grows with its size once the
 * size is known) and an idle timer restarted by every byte that moves. Whichever runs out first
 * aborts `signal` and records why, for the timeout's message.
 */
export class CallTimer {
  readonly #controller = new AbortController();
  #deadline: NodeJS.Timeout | undefined;
  #idle: NodeJS.Timeout | undefined;
  #expired: string | undefined;

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Why the call ran out of time, once it has. */
  get expired(): string | undefined {
    return this.#expired;
  }

  /** Sets the deadline `ms` from now, replacing any earlier one; `undefined`: no deadline. */
  deadline(ms: number | undefined, reason: string): void {
    clearTimeout(this.#deadline);
    this.#deadline = ms === undefined ? undefined : setTimeout(() => this.#expire(reason), ms);
  }

  /** Starts the idle timer, or restarts it if it runs: call on every byte moved. */
  touch(ms: number, reason: string): void {
    if (this.#idle) this.#idle.refresh();
    else this.#idle = setTimeout(() => this.#expire(reason), ms);
  }

  stopIdle(): void {
    clearTimeout(this.#idle);
    this.#idle = undefined;
  }

  clear(): void {
    this.deadline(undefined, '');
    this.stopIdle();
  }

  #expire(reason: string): void {
    if (this.#expired !== undefined) return;
    this.#expired = reason;
    this.clear();
    this.#controller.abort(new DOMException(reason, 'TimeoutError'));
  }
}
