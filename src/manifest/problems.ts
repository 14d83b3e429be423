/** How a refused line is described: field, value and rule, the value cut to a readable length. */
import type { InvalidLine } from '../schemas/batch.js';

export type Problem = Omit<InvalidLine, 'line'>;

/** The field of problems about the line as a whole (unparseable, no source, several sources). */
export const WHOLE_LINE = '(line)';

const MAX_VALUE_CHARS = 200;

export function problem(field: string, value: unknown, rule: string): Problem {
  return { field, value: shorten(value), rule };
}

export function isProblem(x: object): x is Problem {
  return 'rule' in x;
}

function shorten(value: unknown): string {
  // Only the head of a long string is stringified: a 255 MB text must not be copied to be cut.
  const text = typeof value === 'string' ? value.slice(0, MAX_VALUE_CHARS + 1) : (JSON.stringify(value) ?? String(value));
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}
