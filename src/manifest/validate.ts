/**
 * Checks a parsed manifest item against everything knowable before submitting: one source, a
 * usable URL, text within the limit and a model that reads it, a readable local file within the
 * limit and inside the allowed root. Duplicate ids are checked by the caller (see ids.ts).
 */
import { open, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { HUME_LIMITS } from '../hume/limits.js';
import { isS3Location, normalizeLocation, resolveLocation } from '../store/location.js';
import { isPermanentReadFailure, readFailure } from '../store/read-failure.js';
import { createStorage, type Storage } from '../store/storage.js';
import type { JobConfig } from '../hume/schemas.js';
import type { ItemRecord, ManifestItem, SourceKind } from '../schemas/batch.js';
import { generatedId } from './ids.js';
import { type Problem, WHOLE_LINE, isProblem, problem } from './problems.js';

export interface ValidationContext {
  /** Relative file paths resolve against this folder (the manifest's: a path, or `s3://bucket/prefix`). */
  baseDir: string;
  /** Where `s3://` files are looked up. @default storage from the environment */
  storage?: Storage;
  config: JobConfig;
  /**
   * Files must be inside this folder: a local one (symlinks followed), or an `s3://bucket/prefix`
   * for S3 files. Set, it refuses files of the other kind: a manifest may not reach outside it.
   */
  allowedRoot?: string;
  /** Lower limits than Hume's. @default HUME_LIMITS */
  limits?: { maxTextBytes?: number; maxLocalFileBytes?: number };
}

export type ItemValidator = (item: ManifestItem, line: number) => Promise<ItemRecord | Problem>;

const SOURCES: SourceKind[] = ['url', 'file', 'text'];
const TEXT_MODELS = ['language', 'ner'] as const;

export function createValidator(ctx: ValidationContext): ItemValidator {
  const maxTextBytes = ctx.limits?.maxTextBytes ?? HUME_LIMITS.maxTextBytes;
  const maxFileBytes = ctx.limits?.maxLocalFileBytes ?? HUME_LIMITS.maxLocalFileBytes;
  // Omitted models means all models run, language and ner included.
  const models = ctx.config.models;
  const readsText = models == null || TEXT_MODELS.some((name) => models[name] != null);
  // Resolved once: symlinks in the root's own path must not make inside files look outside.
  let root: Promise<{ lexical: string; real: string }> | undefined;
  const roots = () =>
    (root ??= (async () => {
      const lexical = resolve(ctx.allowedRoot ?? '/');
      return { lexical, real: await realpath(lexical).catch(() => lexical) };
    })());

  let storage = ctx.storage;
  /** An S3 object: its size, without reading it (allowedRoot is for local files; S3 is the bucket's policy). */
  async function checkObject(location: string): Promise<{ value: string; bytes: number } | Problem> {
    storage ??= createStorage();
    let bytes: number | undefined;
    try {
      bytes = await storage.file(location).size();
    } catch (err) {
      // A 503 or a dropped connection is retried with the activity, not counted against the item.
      if (!isPermanentReadFailure(err)) throw err;
      // Our words for the cause, never the message: rules reach history, and a message may quote the key.
      return problem('file', location, `the object is not readable (${readFailure(err)})`);
    }
    if (bytes === undefined) return problem('file', location, 'object not found');
    if (bytes > maxFileBytes) return problem('file', location, `the file is ${bytes} bytes, over the limit of ${maxFileBytes} bytes per local file`);
    return { value: location, bytes };
  }

  async function checkFile(path: string): Promise<{ value: string; bytes: number } | Problem> {
    if (path === '') return problem('file', path, 'the file path is empty');
    const location = resolveLocation(ctx.baseDir, path);
    const s3Root = ctx.allowedRoot !== undefined && isS3Location(ctx.allowedRoot) ? normalizeLocation(ctx.allowedRoot) : undefined;
    if (isS3Location(location) || s3Root) {
      const inside = s3Root !== undefined && (location === s3Root || location.startsWith(`${s3Root}/`));
      if (ctx.allowedRoot !== undefined && !inside) return problem('file', path, `the file is outside the allowed root ${ctx.allowedRoot}`);
      return checkObject(location);
    }
    const absolute = location;
    const real = await realpath(absolute).catch(() => undefined);
    if (ctx.allowedRoot !== undefined) {
      const { lexical, real: realRoot } = await roots();
      if (!isInside(real ?? absolute, real ? realRoot : lexical)) {
        return problem('file', path, `the file is outside the allowed root ${ctx.allowedRoot} (symlinks followed)`);
      }
    }
    // The value is where it was looked for; the rule stays free of it (rules reach history).
    if (!real) return problem('file', absolute, 'file not found');
    let bytes: number;
    try {
      const handle = await open(real, 'r');
      try {
        const stat = await handle.stat();
        if (!stat.isFile()) return problem('file', path, 'not a regular file');
        bytes = stat.size;
      } finally {
        await handle.close();
      }
    } catch (err) {
      return problem('file', path, `the file is not readable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    if (bytes > maxFileBytes) return problem('file', path, `the file is ${bytes} bytes, over the limit of ${maxFileBytes} bytes per local file`);
    return { value: absolute, bytes };
  }

  function checkUrl(url: string): Problem | undefined {
    let protocol: string;
    try {
      protocol = new URL(url).protocol;
    } catch {
      return problem('url', url, 'not a valid URL');
    }
    return protocol === 'http:' || protocol === 'https:' ? undefined : problem('url', url, 'only http and https URLs are allowed');
  }

  function checkText(text: string): { value: string; bytes: number } | Problem {
    if (text.trim() === '') return problem('text', text, 'the text is empty');
    const bytes = Buffer.byteLength(text);
    if (bytes > maxTextBytes) return problem('text', text, `the text is ${bytes} bytes, over the limit of ${maxTextBytes} bytes`);
    if (!readsText) return problem('text', text, 'a text item needs a text model (language or ner) in models');
    return { value: text, bytes };
  }

  return async (item, line) => {
    const given = SOURCES.filter((kind) => item[kind] !== undefined);
    if (given.length === 0) return problem(WHOLE_LINE, item, 'needs one of url, file, text');
    if (given.length > 1) {
      // The sources' heads, not the item: one of them may be a 255 MB text.
      const heads = given.map((kind) => `${kind}=${item[kind]?.slice(0, 60)}`).join(' ');
      return problem(WHOLE_LINE, heads, `needs exactly one of url, file, text (has ${given.join(', ')})`);
    }
    const kind = given[0] as SourceKind;
    const value = item[kind] as string;
    const checked = kind === 'url' ? (checkUrl(value) ?? { value, bytes: 0 }) : kind === 'text' ? checkText(value) : await checkFile(value);
    if (isProblem(checked)) return checked;
    const record: ItemRecord = { line, id: item.id ?? generatedId(line), kind, ...checked };
    if (item.metadata) record.metadata = item.metadata;
    return record;
  };
}

function isInside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}
