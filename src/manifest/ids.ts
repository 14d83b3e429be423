/**
 * Finds duplicate item ids across a whole manifest. Explicit ids are kept in a Map (id → first
 * line); items without an id get `line-<n>`, which is recorded as one bit per line instead of a
 * string, so a manifest without ids costs ~125 KB per million lines.
 */
import type { ItemRecord } from '../schemas/batch.js';
import { type Problem, problem } from './problems.js';

const AUTO_ID = /^line-([1-9]\d*)$/;

export class IdRegistry {
  readonly #explicit = new Map<string, number>();
  #autoLines = new Uint8Array(1024);

  /** Registers a valid item's id, or says which earlier line already has it. */
  claim(item: ItemRecord, hasExplicitId: boolean): Problem | undefined {
    const first = hasExplicitId ? this.#explicitOwner(item.id) : this.#explicit.get(item.id);
    if (first !== undefined) return problem('id', item.id, `duplicate id (first used on line ${first})`);
    if (hasExplicitId) this.#explicit.set(item.id, item.line);
    else this.#markAuto(item.line);
    return undefined;
  }

  #explicitOwner(id: string): number | undefined {
    const owner = this.#explicit.get(id);
    if (owner !== undefined) return owner;
    const auto = AUTO_ID.exec(id);
    const line = auto ? Number(auto[1]) : 0;
    return line > 0 && this.#isAuto(line) ? line : undefined;
  }

  #isAuto(line: number): boolean {
    // Bounds first: bit operations wrap numbers past 2^31 (an id such as `line-4294967297`).
    return line < this.#autoLines.length * 8 && ((this.#autoLines[line >> 3] ?? 0) & (1 << (line & 7))) !== 0;
  }

  #markAuto(line: number): void {
    if (line >> 3 >= this.#autoLines.length) {
      const grown = new Uint8Array(Math.max(this.#autoLines.length * 2, (line >> 3) + 1));
      grown.set(this.#autoLines);
      this.#autoLines = grown;
    }
    this.#autoLines[line >> 3] = (this.#autoLines[line >> 3] ?? 0) | (1 << (line & 7));
  }
}
