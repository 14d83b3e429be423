/**
 * Which backend answers for which model: specs (`face=face-api`, `language=http://…`) parsed and
 * validated, backends created once per emulator, described for the startup line and `/v0/info`.
 * Models without a backend keep the synthetic builders of predictions.ts.
 */
import { z } from 'zod';
import { MODEL_NAMES, type ModelName, type ModelsConfig } from '../../hume/schemas.js';
import type { BackendInfo, ModelBackend } from './backend.js';
import { createHttpBackend, type HttpBackendOptions } from './http.js';

export type { BackendInfo, BackendResult, BackendSource, ModelBackend } from './backend.js';
export { HTTP_BACKEND_DEFAULTS, HttpBackendOptionsSchema, type HttpBackendOptions } from './http.js';

/** The real backends of one emulator, by model; a model missing here is synthetic. */
export type Backends = Partial<Record<ModelName, ModelBackend>>;

/**
 * Each model's options as the job request sent them: no defaults filled in (the echo fills
 * Hume's), so a backend can tell an option given from one left to it (face-api's own
 * `prob_threshold` default, say). A model requested without options has `{}`.
 */
export type ModelConfigs = Partial<Record<ModelName, Record<string, unknown>>>;

export function modelConfigs(models: ModelsConfig | null | undefined): ModelConfigs {
  // Omitted (or null) models means every model runs with its defaults, as in the echo.
  if (!models) return Object.fromEntries(MODEL_NAMES.map((m) => [m, {}]));
  return Object.fromEntries(MODEL_NAMES.flatMap((m) => (models[m] ? [[m, { ...models[m] }]] : [])));
}

const isBackend = (v: unknown): v is ModelBackend =>
  typeof v === 'object' && v !== null && typeof (v as ModelBackend).predict === 'function' && typeof (v as ModelBackend).info === 'function';

const httpUrl = z.url({ protocol: /^https?$/ });

/** Why a backend choice is unusable, if it is. */
function choiceProblem(choice: unknown): string | undefined {
  if (isBackend(choice) || choice === 'synthetic' || choice === 'face-api') return undefined;
  if (typeof choice !== 'string') return 'expected synthetic, face-api, an http(s):// URL or a ModelBackend';
  if (!/^https?:\/\//i.test(choice)) return `expected synthetic, face-api or an http(s):// URL, got "${choice}"`;
  return httpUrl.safeParse(choice).success ? undefined : `not a valid URL: ${redactSpec(choice)}`;
}

/** One backend choice: a name, a model server's URL, or (in code, for tests) a backend object. */
const Choice = z.custom<string | ModelBackend>().superRefine((choice, ctx) => {
  const problem = choiceProblem(choice);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** `HumeEmulatorOptions.backends`: per model, e.g. `{ face: 'face-api', language: 'http://127.0.0.1:9000/predict' }`. */
export const BackendsOptionSchema = z
  .partialRecord(z.enum(MODEL_NAMES), Choice, {
    // zod reports keys outside the enum as `unrecognized_keys`, which its record issue types omit.
    error: (issue) => {
      const { code, keys } = issue as { code: string; keys?: string[] };
      return code === 'unrecognized_keys' && keys
        ? `unknown model ${keys.map((k) => `"${k}"`).join(', ')} (models: ${MODEL_NAMES.join(', ')})`
        : undefined;
    },
  })
  .superRefine((choices, ctx) => {
    for (const [model, choice] of Object.entries(choices)) {
      if (choice === 'face-api' && model !== 'face') {
        ctx.addIssue({ code: 'custom', path: [model], message: 'face-api is a backend for face only' });
      }
    }
  });
export type BackendsOption = z.input<typeof BackendsOptionSchema>;

/**
 * Parses `MODEL=BACKEND` specs (the CLI's repeated `--backend`); throws one line naming the bad
 * spec. A model given twice is refused rather than silently overridden.
 */
export function parseBackendSpecs(specs: readonly string[]): BackendsOption {
  const choices: Record<string, string> = {};
  for (const spec of specs) {
    // A model server's URL may carry credentials or a token: never echoed whole.
    const bad = (why: string) => new TypeError(`invalid --backend "${redactSpec(spec)}": ${redactSpec(why)}`);
    const at = spec.indexOf('=');
    if (at < 0) throw bad('expected MODEL=BACKEND, e.g. face=face-api or language=http://127.0.0.1:9000/predict');
    const model = spec.slice(0, at).trim();
    if (!(MODEL_NAMES as readonly string[]).includes(model)) throw bad(`unknown model "${model}" (models: ${MODEL_NAMES.join(', ')})`);
    if (model in choices) throw bad(`${model} is given a backend twice`);
    const parsed = BackendsOptionSchema.safeParse({ [model]: spec.slice(at + 1).trim() });
    if (!parsed.success) throw bad(parsed.error.issues[0]?.message ?? 'invalid');
    choices[model] = spec.slice(at + 1).trim();
  }
  return choices as BackendsOption;
}

export interface BackendDeps {
  http: HttpBackendOptions;
}

/** The emulator's backends: the real ones by model, and what to say about every model. */
export interface ResolvedBackends {
  readonly byModel: Backends;
  info(): BackendInfo[];
  close(): Promise<void>;
}

/**
 * Creates the chosen backends (validated choices, see BackendsOptionSchema). `face-api` is loaded
 * only when chosen: its packages are optional and heavy. Only backends created here are closed
 * here (an instance passed in belongs to its caller); a failure closes those created so far.
 */
export async function createBackends(choices: z.output<typeof BackendsOptionSchema>, deps: BackendDeps): Promise<ResolvedBackends> {
  const byModel: Backends = {};
  const owned: ModelBackend[] = [];
  const closeOwned = async (): Promise<void> => {
    await Promise.all(owned.map((b) => b.close?.()));
  };
  try {
    for (const model of MODEL_NAMES) {
      const choice = choices[model];
      if (choice === undefined || choice === 'synthetic') continue;
      if (isBackend(choice)) {
        byModel[model] = choice;
        continue;
      }
      const created = choice === 'face-api' ? await loadFaceApi() : createHttpBackend(model, choice, deps.http);
      owned.push(created);
      byModel[model] = created;
    }
  } catch (err) {
    await closeOwned();
    throw err;
  }
  return {
    byModel,
    // Listed under the model it answers for, whatever a backend object says of itself.
    info: () => MODEL_NAMES.map((model) => ({ ...(byModel[model]?.info() ?? { backend: 'synthetic', real: false }), model })),
    close: closeOwned,
  };
}

/** face-api.ts says what to install when its packages are missing; a missing module of its own gets one line too. */
async function loadFaceApi(): Promise<ModelBackend> {
  let mod: { createFaceApiBackend: () => Promise<ModelBackend> };
  try {
    mod = (await import('./face-api.js')) as typeof mod;
  } catch (err) {
    throw new Error(`face-api backend could not be loaded: ${firstLine(err)}`, { cause: err });
  }
  return mod.createFaceApiBackend();
}

const firstLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';

/** The startup report, e.g. `backends: face=face-api (real, 7 expressions), language=http://… (real), others synthetic`. */
export function describeBackends(info: readonly BackendInfo[]): string {
  const real = info.filter((i) => i.real || i.backend !== 'synthetic');
  if (real.length === 0) return 'backends: all synthetic';
  const parts = real.map((i) => {
    const traits = [i.real ? 'real' : 'synthetic', ...(i.labels ? [`${i.labels.length} expressions`] : [])];
    return `${i.model}=${i.backend} (${traits.join(', ')})`;
  });
  if (real.length < info.length) parts.push('others synthetic');
  return `backends: ${parts.join(', ')}`;
}

/** `user:password@` and query strings of URLs inside a spec or message, blanked. */
function redactSpec(text: string): string {
  return text.replace(/(https?:\/\/)[^/@\s"]*@/gi, '$1[redacted]@').replace(/(https?:\/\/[^\s"?]*)\?[^\s"]*/gi, '$1?[redacted]');
}
