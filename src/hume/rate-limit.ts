/**
 * The request limiter in front of Hume ("Hume is never stormed"): every request a HumeClient
 * sends first takes a slot from a token bucket, and a 429 pauses the bucket for its Retry-After,
 * so one throttled call holds back every other call this process would send to the same server.
 *
 * No library: bottleneck (2.19.5, unreleased since 2019) cannot abort a queued call with an
 * AbortSignal; limiter 4 can neither abort a wait nor keep waiters in order (its docs ask for a
 * queue in front); p-throttle 8 aborts every queued call through one signal, not one call's.
 * None pauses on Retry-After. The bucket below is what we need and no more.
 */

/** A call that may wait only so long (`maxWaitMs`) found no free slot in time (the limiter's, or a transfer's): nothing was sent. */
export class RequestLimiterBusy extends Error {
  constructor(call: string, slot: 'request' | 'transfer' = 'request') {
    super(`Hume ${call}: not sent, ${slot === 'request' ? 'the request limiter had' : 'the transfers to Hume had'} no free slot in time`);
    this.name = 'RequestLimiterBusy';
  }
}

export interface RateLimitSettings {
  /** Sustained rate, requests per second (may be fractional). */
  requestsPerSecond: number;
  /** Requests that may go at once after a quiet spell: the bucket's size. */
  burst: number;
}

/**
 * 10 requests per second, bursts of 10. Hume documents no requests-per-second limit for the batch
 * API; its own SDK's `awaitCompletion` polls once a second per job, so 10/s is ten such pollers,
 * traffic Hume's own client produces. Ours needs 2 requests per job in webhook mode (submit,
 * predictions; 3 when polled: a check too): 10/s carries ~5 jobs per second, far more than Hume's 500 queued jobs
 * need when jobs take minutes, and a 429 from a stricter account is still handled below.
 */
export const DEFAULT_RATE_LIMIT: Readonly<RateLimitSettings> = { requestsPerSecond: 10, burst: 10 };
/** A 429 without a usable Retry-After pauses this long, ms (the official SDK's first backoff is 1 s). */
export const DEFAULT_429_PAUSE_MS = 1_000;
/**
 * The longest process-wide pause, ms. A longer Retry-After still holds back the call that got it
 * (its activity retries after the full delay); the rest of the process probes again after a minute:
 * one request a minute is no storm, and a bogus header cannot stall the worker for a day.
 */
export const MAX_PAUSE_MS = 60_000;

/** Rounding slack for fractional tokens (a timer may fire a hair before the token is whole). */
const EPSILON = 1e-9;

interface Waiter {
  resolve(): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

export class RequestRateLimiter {
  #rate: number;
  #burst: number;
  #tokens: number;
  /** When `#tokens` was last brought up to date (monotonic ms). */
  #refilledAt: number;
  /** No request before this (monotonic ms); tokens do not accrue until then. */
  #pausedUntil = 0;
  /** First come, first served: a new call never overtakes one already waiting. */
  readonly #waiters: Waiter[] = [];
  #timer: NodeJS.Timeout | undefined;
  readonly #now: () => number;

  constructor(settings: RateLimitSettings, now: () => number = () => performance.now()) {
    assertSettings(settings);
    this.#rate = settings.requestsPerSecond;
    this.#burst = settings.burst;
    this.#tokens = settings.burst;
    this.#now = now;
    this.#refilledAt = now();
  }

  get settings(): RateLimitSettings {
    return { requestsPerSecond: this.#rate, burst: this.#burst };
  }

  /** Requests waiting for a slot. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Lowers the rate and burst to `settings` where those are stricter; never raises them. */
  tighten(settings: RateLimitSettings): void {
    assertSettings(settings);
    this.#refill(this.#now());
    this.#rate = Math.min(this.#rate, settings.requestsPerSecond);
    this.#burst = Math.min(this.#burst, settings.burst);
    this.#tokens = Math.min(this.#tokens, this.#burst);
  }

  /**
   * Resolves when the caller may send one request. Rejects with `signal.reason` as soon as the
   * signal aborts, giving the slot up; an already aborted signal rejects at once.
   */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#waiters.length === 0 && this.#take(this.#now())) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, signal };
      if (signal) {
        waiter.onAbort = () => {
          const index = this.#waiters.indexOf(waiter);
          if (index >= 0) this.#waiters.splice(index, 1);
          if (this.#waiters.length === 0) this.#clearTimer();
          reject(signal.reason);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#waiters.push(waiter);
      this.#schedule();
    });
  }

  /**
   * The server answered 429: nothing leaves this process for `ms` (at most `MAX_PAUSE_MS`), and
   * sending resumes at the steady rate, not with a burst into a server that just said stop.
   */
  pause(ms: number): void {
    const now = this.#now();
    this.#refill(now);
    this.#pausedUntil = Math.max(this.#pausedUntil, now + Math.min(Math.max(0, ms), MAX_PAUSE_MS));
    this.#tokens = Math.min(this.#tokens, 1);
    // A timer set before the pause fires early, finds nothing to do and sets itself again.
    this.#schedule();
  }

  #refill(now: number): void {
    const from = Math.max(this.#refilledAt, this.#pausedUntil);
    if (now <= from) return;
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - from) / 1000) * this.#rate);
    this.#refilledAt = now;
  }

  #take(now: number): boolean {
    this.#refill(now);
    if (now < this.#pausedUntil || this.#tokens < 1 - EPSILON) return false;
    this.#tokens = Math.max(0, this.#tokens - 1);
    return true;
  }

  #drain(): void {
    const now = this.#now();
    while (this.#waiters.length > 0 && this.#take(now)) {
      const waiter = this.#waiters.shift() as Waiter;
      if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.resolve();
    }
    this.#schedule();
  }

  /** One timer, set for when the first waiter can go; none while nobody waits. */
  #schedule(): void {
    if (this.#timer !== undefined || this.#waiters.length === 0) return;
    const now = this.#now();
    this.#refill(now);
    const readyAt = Math.max(now, this.#pausedUntil) + (Math.max(0, 1 - this.#tokens) * 1000) / this.#rate;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#drain();
    }, Math.ceil(readyAt - now));
  }

  #clearTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

function assertSettings({ requestsPerSecond, burst }: RateLimitSettings): void {
  if (!(requestsPerSecond > 0 && Number.isFinite(requestsPerSecond))) {
    throw new RangeError(`requestsPerSecond must be a positive finite number, got ${requestsPerSecond}`);
  }
  if (!Number.isSafeInteger(burst) || burst < 1) throw new RangeError(`burst must be a positive integer, got ${burst}`);
}

/**
 * One limiter per server origin, for the whole process. Module state on purpose (our code
 * otherwise passes dependencies in): what a server limits is this process's traffic, yet the
 * worker's activities, the plugin, `run`'s preflight check and users' own code each build their
 * own HumeClient, and a limiter per client would let N clients send N times the rate. Keyed by
 * origin rather than one per process, so that traffic to two servers (Hume and a local
 * Hume-compatible server, or two test servers) never holds the other back.
 */
const byOrigin = new Map<string, RequestRateLimiter>();

/**
 * The limiter every client of `baseUrl`'s origin shares. Clients asking for different settings
 * get the strictest of them: the process never sends faster than any of its clients allows.
 */
export function sharedRateLimiter(baseUrl: string, settings: RateLimitSettings): RequestRateLimiter {
  const origin = new URL(baseUrl).origin;
  const existing = byOrigin.get(origin);
  if (existing) {
    existing.tighten(settings);
    return existing;
  }
  const limiter = new RequestRateLimiter(settings);
  byOrigin.set(origin, limiter);
  return limiter;
}
