/** One JSONL line → a manifest item, or the problem that refuses it. */
import { ManifestItem } from '../schemas/batch.js';
import { type Problem, WHOLE_LINE, problem } from './problems.js';

const FIELDS = Object.keys(ManifestItem.shape).join(', ');

export function parseJsonlLine(text: string): ManifestItem | Problem {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return problem(WHOLE_LINE, text, `not valid JSON (${(err as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return problem(WHOLE_LINE, text, 'must be a JSON object');
  }
  // Tools such as pandas write absent fields as null: treat them as absent (copied only when one is).
  const present: Record<string, unknown> = Object.values(value).includes(null)
    ? Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null))
    : (value as Record<string, unknown>);
  const parsed = ManifestItem.safeParse(present);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue?.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    return problem(key, present[key], `unknown field (the fields are ${FIELDS})`);
  }
  const field = String(issue?.path[0] ?? WHOLE_LINE);
  return problem(field, present[field] ?? text, issue?.message ?? 'invalid');
}
