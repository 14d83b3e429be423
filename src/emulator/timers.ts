/**
 * Every timer and background task of an emulator goes through one `Timers`, so `close()` can
 * cancel them all and leave no handle behind.
 */
import { setMaxListeners } from 'node:events';

export class Timers {
  readonly #handles = new Set<NodeJS.Timeout>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #controller = new AbortController();

  constructor() {
    // Every pending sleep and request listens on this one signal: thousands at a time are normal.
    setMaxListeners(0, this.#controller.signal);
  }

  /** Aborted on close: pass it to requests so they stop too. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  after(ms: number, fn: () => void): void {
    if (this.signal.aborted) return;
    const handle = setTimeout(() => {
      this.#handles.delete(handle);
      fn();
    }, ms);
    this.#handles.add(handle);
  }

  /** Resolves after `ms`; rejects when the emulator closes first. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.signal.aborted) return reject(this.signal.reason);
      const onAbort = (): void => reject(this.signal.reason);
      this.signal.addEventListener('abort', onAbort, { once: true });
      this.after(ms, () => {
        this.signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  /** Runs a background task; its failure is reported to `onError` unless caused by closing. */
  track(task: Promise<void>, onError: (err: unknown) => void): void {
    const tracked = task.catch((err: unknown) => {
      if (!this.signal.aborted) onError(err);
    }).finally(() => this.#tasks.delete(tracked));
    this.#tasks.add(tracked);
  }

  async close(): Promise<void> {
    this.#controller.abort(new Error('emulator closed'));
    for (const handle of this.#handles) clearTimeout(handle);
    this.#handles.clear();
    await Promise.allSettled([...this.#tasks]);
  }
}
