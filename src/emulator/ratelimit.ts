/** A token bucket: `rate` requests per second, bursts of up to `rate` (at least 1). */
export class TokenBucket {
  readonly #rate: number;
  readonly #capacity: number;
  #tokens: number;
  #last = Date.now();

  constructor(rate: number) {
    this.#rate = rate;
    this.#capacity = Math.max(1, rate);
    this.#tokens = this.#capacity;
  }

  /** Takes a token: 0 when allowed, else the seconds to wait (for Retry-After). */
  take(now = Date.now()): number {
    this.#tokens = Math.min(this.#capacity, this.#tokens + ((now - this.#last) / 1000) * this.#rate);
    this.#last = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - this.#tokens) / this.#rate));
  }
}
