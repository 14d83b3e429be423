/**
 * Fault injection: random faults at the rates in `Faults`, and deterministic one-shot rules
 * (`failNext`, `failNextJobs`) that tests queue up. Draws use the emulator's seeded PRNG.
 */
import { z } from 'zod';
import { FailNextRuleSchema, FaultsSchema, type FailNextRule, type FaultRoute, type Faults } from './options.js';
import type { Random } from './random.js';
import { ValidationError } from './request.js';

export type FaultDecision =
  | { kind: 'reset' }
  | { kind: 'status'; status: number; message: string; retryAfterSeconds?: number };

const DEFAULT_JOB_FAILURE = 'injected job failure';

export class FaultInjector {
  #faults: Faults;
  readonly #random: Random;
  readonly #rules: (FailNextRule & { left: number })[] = [];
  readonly #jobFailures: string[] = [];
  /** 429s still owed by the current burst. */
  #burstLeft = 0;

  constructor(faults: Faults, random: Random) {
    this.#faults = faults;
    this.#random = random;
  }

  get faults(): Faults {
    return { ...this.#faults };
  }

  set(partial: unknown): Faults {
    this.#faults = { ...this.#faults, ...parse(FaultsSchema.partial(), partial, 'faults') };
    return this.faults;
  }

  failNext(rule: unknown): void {
    const parsed = parse(FailNextRuleSchema, rule, 'fail-next rule');
    this.#rules.push({ ...parsed, left: parsed.count });
  }

  failNextJobs(count: number, message = DEFAULT_JOB_FAILURE): void {
    parse(z.number().int().min(1), count, 'count');
    for (let i = 0; i < count; i++) this.#jobFailures.push(message);
  }

  /** Decided when a job is created: the message it will fail with, or undefined. */
  takeJobFailure(): string | undefined {
    if (this.#jobFailures.length > 0) return this.#jobFailures.shift();
    return this.#random.chance(this.#faults.jobFailureRate) ? DEFAULT_JOB_FAILURE : undefined;
  }

  /** The fault that replaces a request before it is handled, if any. */
  before(route: FaultRoute): FaultDecision | undefined {
    const ruled = this.#takeRule(route, false);
    if (ruled) return ruled;
    const f = this.#faults;
    if (this.#random.chance(f.resetRate)) return { kind: 'reset' };
    if (this.#burstLeft === 0 && this.#random.chance(f.tooManyRequestsRate)) this.#burstLeft = f.tooManyRequestsBurst;
    if (this.#burstLeft > 0) {
      this.#burstLeft--;
      return { kind: 'status', status: 429, message: 'Too Many Requests (injected fault)', retryAfterSeconds: f.retryAfterSeconds };
    }
    if (this.#random.chance(f.serverErrorRate)) {
      const status = [500, 502, 503][this.#random.int(0, 2)] ?? 503;
      return { kind: 'status', status, message: `Server Error ${status} (injected fault)`, retryAfterSeconds: f.retryAfterSeconds };
    }
    return undefined;
  }

  /** The fault that replaces the answer of a request already handled (`afterHandling` rules). */
  after(route: FaultRoute): FaultDecision | undefined {
    return this.#takeRule(route, true);
  }

  #takeRule(route: FaultRoute, afterHandling: boolean): FaultDecision | undefined {
    const index = this.#rules.findIndex((r) => (r.route === undefined || r.route === route) && (r.afterHandling ?? false) === afterHandling);
    const rule = this.#rules[index];
    if (!rule) return undefined;
    if (--rule.left === 0) this.#rules.splice(index, 1);
    if (rule.reset) return { kind: 'reset' };
    const status = rule.status ?? 503;
    const retryAfterSeconds = rule.retryAfterSeconds ?? (status === 429 ? this.#faults.retryAfterSeconds : undefined);
    return { kind: 'status', status, message: `injected fault (HTTP ${status})`, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) };
  }
}

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ValidationError(`invalid ${what}: ${issue?.path.join('.') || 'value'}: ${issue?.message}`);
  }
  return parsed.data;
}
