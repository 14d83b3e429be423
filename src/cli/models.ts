/**
 * `--models` and `--transcription-language` → a JobConfig, validated by the same zod schema the
 * run uses, so a typo is refused here in one line instead of failing the run later.
 */
import { JobConfig, MODEL_NAMES } from '../hume/schemas.js';
import { describeIssues } from '../schemas/issues.js';
import { usageError } from './errors.js';

export const MODELS_HELP = [
  'models to run: a comma-separated list of names',
  `(${MODEL_NAMES.join(', ')}), e.g. "language,prosody", or a JSON object of Hume model`,
  `configs, e.g. '{"language":{"sentiment":{},"granularity":"sentence"}}' (default: every model)`,
].join(' ');

export function parseJobConfig(models: string | undefined, transcriptionLanguage: string | undefined): JobConfig {
  const config = {
    ...(models === undefined ? {} : { models: parseModels(models) }),
    ...(transcriptionLanguage === undefined ? {} : { transcription: { language: transcriptionLanguage } }),
  };
  const parsed = JobConfig.safeParse(config);
  if (!parsed.success) {
    const option = parsed.error.issues.every((issue) => issue.path[0] === 'transcription') ? '--transcription-language' : '--models';
    throw usageError(`invalid ${option}: ${describeIssues(parsed.error)}`);
  }
  return parsed.data;
}

function parseModels(spec: string): unknown {
  const text = spec.trim();
  if (text.startsWith('{')) {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw usageError(`invalid --models: not valid JSON (${(err as Error).message})`);
    }
  }
  const names = text.split(',').map((name) => name.trim()).filter(Boolean);
  if (names.length === 0) throw usageError(`invalid --models: give model names (${MODEL_NAMES.join(', ')}) or a JSON object`);
  const unknown = names.filter((name) => !(MODEL_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw usageError(`invalid --models: unknown model ${unknown.map((n) => JSON.stringify(n)).join(', ')} (choose from ${MODEL_NAMES.join(', ')})`);
  }
  return Object.fromEntries(names.map((name) => [name, {}]));
}
