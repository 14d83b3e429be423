/**
 * The run's invalid lines, merged into the index in manifest line order: the plan step wrote
 * them to `invalid.jsonl` in line order, so they are streamed alongside the valid items.
 */
import type { InvalidLine, PlanResult } from '../schemas/batch.js';
import type { ResultStore } from '../store/store.js';
import { INVALID_JSONL } from './layout.js';
import { InvalidLineRecord, readRecords } from './records.js';

/** `invalid.jsonl`, or the plan's own list when the file is missing (it holds up to 1,000). */
async function* invalidLines(store: ResultStore, plan: PlanResult): AsyncGenerator<InvalidLine> {
  if (await store.exists(INVALID_JSONL)) yield* readRecords(store, INVALID_JSONL, InvalidLineRecord);
  else yield* plan.invalid;
}

export class InvalidLineMerge {
  readonly #lines: AsyncGenerator<InvalidLine>;
  #next: InvalidLine | undefined;
  #done = false;

  constructor(store: ResultStore, plan: PlanResult) {
    this.#lines = invalidLines(store, plan);
  }

  /** The invalid lines not yet taken that come before `line` (`Infinity`: all the rest). */
  async *before(line: number): AsyncGenerator<InvalidLine> {
    for (;;) {
      if (!this.#next && !this.#done) {
        const next = await this.#lines.next();
        if (next.done) this.#done = true;
        else this.#next = next.value;
      }
      if (!this.#next || this.#next.line >= line) return;
      yield this.#next;
      this.#next = undefined;
    }
  }
}
