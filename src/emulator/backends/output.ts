/** A backend's answer checked against Hume's shape of that model's output (hume-batch-api.md §4). */
import { ModelsPredictions, type ModelName } from '../../hume/schemas.js';
import type { ModelOutput } from '../predictions.js';

/** The model output in `value`, or why it is not one (the first problem, with its path). */
export function checkOutput(model: ModelName, value: unknown): { output: ModelOutput } | { problem: string } {
  const parsed = ModelsPredictions.shape[model].safeParse(value);
  if (!parsed.success || !parsed.data) {
    const issue = parsed.success ? undefined : parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    return { problem: `${where}${issue?.message ?? 'expected {grouped_predictions, metadata} or {error}'}` };
  }
  return { output: { ...parsed.data, metadata: parsed.data.metadata ?? null } as ModelOutput };
}
