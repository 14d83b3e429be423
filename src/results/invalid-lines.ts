/**
 * The run's invalid lines, merged into the index in manifest line order: the plan step wrote
 * them to `invalid.jsonl` in line order, so they are streamed alongside the valid items.
 */
import type { InvalidLineRef, PlanResult } from '../schemas/batch.js';
import type { ResultStore } from '../store/store.js';
import { INVALID_JSONL } from './layout.js';
import { InvalidLineRecord, readRecords } from './records.js';

/** `invalid.jsonl`, or the plan's own list when the file is missing (it holds up to 1,000), after the first `skip`. */
async function* invalidLines(store: ResultStore, plan: PlanResult, skip: number): AsyncGenerator<InvalidLineRef> {
  let seen = 0;
  const lines = (await store.exists(INVALID_JSONL)) ? readRecords(store, INVALID_JSONL, InvalidLineRecord) : plan.invalid;
  for await (const line of lines) if (seen++ >= skip) yield line;
}

export class InvalidLineMerge {
  readonly #lines: AsyncGenerator<InvalidLineRef>;
  #next: InvalidLineRef | undefined;
  #done = false;
  /** Lines taken so far, counting those a resumed finalize skipped. */
  taken: number;

  /** `taken`: lines an earlier attempt already merged, to skip. */
  constructor(store: ResultStore, plan: PlanResult, taken = 0) {
    this.#lines = invalidLines(store, plan, taken);
    this.taken = taken;
  }

  /** The invalid lines not yet taken that come before `line` (`Infinity`: all the rest). */
  async *before(line: number): AsyncGenerator<InvalidLineRef> {
    for (;;) {
      if (!this.#next && !this.#done) {
        const next = await this.#lines.next();
        if (next.done) this.#done = true;
        else this.#next = next.value;
      }
      if (!this.#next || this.#next.line >= line) return;
      const next = this.#next;
      this.#next = undefined;
      this.taken++;
      yield next;
    }
  }
}
