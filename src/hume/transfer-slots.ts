/**
 * How many large transfers (uploads with files, predictions and artifacts downloads) this process
 * runs at once against one server. Many small JSON calls share a link easily; 100 uploads of
 * 100 MB each on a few MB/s do not: each would crawl, and all would time out together. A slot is
 * held for the whole exchange, body included.
 *
 * Shared per server origin, for the reason the rate limiter is (`rate-limit.ts`): every part of
 * the worker builds its own HumeClient, and what is scarce is this process's link.
 */

/** Transfers at once per server, unless a client asks for fewer. */
export const DEFAULT_MAX_CONCURRENT_TRANSFERS = 4;

interface Waiter {
  resolve(release: () => void): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

export class TransferSlots {
  #max: number;
  #running = 0;
  /** First come, first served. */
  readonly #waiters: Waiter[] = [];

  constructor(max: number) {
    assertMax(max);
    this.#max = max;
  }

  get max(): number {
    return this.#max;
  }

  /** Transfers holding a slot now. */
  get running(): number {
    return this.#running;
  }

  /** Transfers waiting for a slot now. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Lowers the bound to `max` if that is stricter; running transfers finish, new ones wait. */
  tighten(max: number): void {
    assertMax(max);
    this.#max = Math.min(this.#max, max);
  }

  /**
   * Resolves with a `release` function once a slot is free; call it exactly once when the transfer
   * ends. Rejects with `signal.reason` as soon as the signal aborts, giving the place up.
   */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#waiters.length === 0 && this.#running < this.#max) return Promise.resolve(this.#take());
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { resolve, signal };
      if (signal) {
        waiter.onAbort = () => {
          const index = this.#waiters.indexOf(waiter);
          if (index >= 0) this.#waiters.splice(index, 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#waiters.push(waiter);
    });
  }

  #take(): () => void {
    this.#running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#running--;
      this.#drain();
    };
  }

  #drain(): void {
    while (this.#waiters.length > 0 && this.#running < this.#max) {
      const waiter = this.#waiters.shift() as Waiter;
      if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.resolve(this.#take());
    }
  }
}

function assertMax(max: number): void {
  if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`maxConcurrentTransfers must be a positive integer, got ${max}`);
}

const byOrigin = new Map<string, TransferSlots>();

/** The slots every client of `baseUrl`'s origin shares; the lowest bound asked for applies to all. */
export function sharedTransferSlots(baseUrl: string, max: number): TransferSlots {
  const origin = new URL(baseUrl).origin;
  const existing = byOrigin.get(origin);
  if (existing) {
    existing.tighten(max);
    return existing;
  }
  const slots = new TransferSlots(max);
  byOrigin.set(origin, slots);
  return slots;
}
