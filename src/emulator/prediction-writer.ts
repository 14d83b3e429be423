/**
 * Writes a job's predictions file (hume-batch-api.md §4) as a stream: source by source,
 * prediction by prediction, waiting for the disk when it lags. Memory does not grow with the
 * size of the inputs or of the output; the file appears at `destPath` only once complete.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { ArchiveError, archiveFormat, readArchive, type ArchiveEntry, type ArchiveFormat } from './archive.js';
import { readHead, wavSeconds } from './duration.js';
import { JsonOut } from './json-out.js';
import { MAX_URL_BYTES, mediaKind, type MediaKind } from './media.js';
import {
  applicableModels, writeFilePrediction, type MediaFile, type PerFileError, type PredictionBackends, type ResolvedSource,
} from './predictions.js';
import { createRandom } from './random.js';
import { requestedModels, type EchoedRequest } from './request.js';

export interface WrittenPredictions {
  bytes: number;
  /** Predictions entries over all sources. */
  numPredictions: number;
  /** Per-file errors plus whole-source errors. */
  numErrors: number;
}

export async function writePredictions(
  sources: ResolvedSource[],
  request: EchoedRequest,
  destPath: string,
  signal?: AbortSignal,
  { backends, configs }: Omit<PredictionBackends, 'signal'> = { backends: {}, configs: {} },
): Promise<WrittenPredictions> {
  const temp = `${destPath}.${randomUUID()}.tmp`;
  const stream = createWriteStream(temp);
  const out = new JsonOut(stream, signal);
  const real: PredictionBackends = { backends, configs, signal: signal ?? new AbortController().signal };
  let numPredictions = 0;
  let numErrors = 0;
  try {
    await out.write('[');
    for (const [i, src] of sources.entries()) {
      const counts = await writeSource(src, request, out, i > 0 ? ',' : '', (n) => `${temp}.entry-${n}`, real);
      numPredictions += counts.predictions;
      numErrors += counts.errors;
    }
    await out.write(']');
    await out.flush();
    stream.end();
    await finished(stream);
    await rename(temp, destPath);
  } catch (err) {
    stream.destroy();
    await rm(temp, { force: true });
    throw err;
  }
  return { bytes: out.bytes, numPredictions, numErrors };
}

async function writeSource(
  src: ResolvedSource,
  request: EchoedRequest,
  out: JsonOut,
  separator: string,
  entryPath: (n: number) => string,
  real: PredictionBackends,
): Promise<{ predictions: number; errors: number }> {
  await out.write(`${separator}{"source":${JSON.stringify(src.source)}`);
  if (src.error !== undefined) {
    await out.write(`,"error":${JSON.stringify(src.error)}}`);
    return { predictions: 0, errors: 1 };
  }
  await out.write(',"results":{"predictions":[');
  let predictions = 0;
  const errors: PerFileError[] = [];
  const predict = async (f: MediaFile): Promise<void> => {
    const r = await writeFilePrediction(f, request, out, predictions > 0 ? ',' : '', real);
    if (r.predicted) predictions++;
    errors.push(...r.errors);
  };

  const head = src.path !== undefined && (src.kind === 'archive' || src.kind === 'unknown' || src.kind === 'audio' || src.kind === 'video')
    ? await readHead(src.path)
    : undefined;
  const format = src.kind === 'archive' || src.kind === 'unknown' ? archiveFormat(src.file, src.contentType, head ?? Buffer.alloc(0)) : undefined;
  const overUrlLimit = (src.bytes ?? 0) > MAX_URL_BYTES;
  if (src.path !== undefined && format !== undefined) {
    // Texts are tokenised from a copy; other entries need one only when a backend reads their bytes.
    const keep = (kind: MediaKind): boolean =>
      kind === 'text' || applicableModels(kind, request).some((m) => real.backends[m] !== undefined);
    await expandArchive(src.path, src.file, format, predict, errors, entryPath, keep);
  } else if (src.kind === 'archive' && src.path !== undefined) {
    errors.push({ message: `${src.file}: not an archive the emulator reads (zip, tar, tar.gz, tar.bz2, tar.xz)`, file: src.file });
  } else if (src.kind === 'archive' && !overUrlLimit) {
    for (const f of unfetchedArchive(src, request)) await predict(f);
  } else {
    const size = head && src.path !== undefined ? src.bytes ?? (await stat(src.path)).size : undefined;
    await predict({
      file: src.file,
      kind: src.kind,
      contentKey: src.contentKey,
      ...(src.path !== undefined ? { path: src.path } : {}),
      contentType: src.contentType ?? null,
      ...(overUrlLimit ? { overUrlLimit } : {}),
      ...(head && size !== undefined ? optional('durationSec', wavSeconds(head, size)) : {}),
    });
  }
  await out.write(`],"errors":${JSON.stringify(errors)}}}`);
  return { predictions, errors: errors.length };
}

/**
 * One prediction per media entry, `file` being its path inside the archive and its scores
 * seeded by its bytes, as if uploaded alone. Entries already written stay when the archive
 * turns out corrupt further on; the corruption is one more per-file error naming the archive.
 */
async function expandArchive(
  path: string,
  file: string,
  format: ArchiveFormat,
  predict: (f: MediaFile) => Promise<void>,
  errors: PerFileError[],
  entryPath: (n: number) => string,
  keep: (kind: MediaKind) => boolean,
): Promise<void> {
  let copies = 0;
  const entries = readArchive(path, file, format, { keep: (name) => (keep(mediaKind(name)) ? entryPath(copies++) : undefined) });
  try {
    for (;;) {
      let next: IteratorResult<ArchiveEntry>;
      try {
        next = await entries.next();
      } catch (err) {
        if (!(err instanceof ArchiveError)) throw err;
        errors.push({ message: err.message, file });
        return;
      }
      if (next.done) return;
      const entry = next.value;
      if (entry.refused) {
        errors.push({ message: `${entry.refused}: ${entry.name}`, file: entry.name });
        continue;
      }
      try {
        await predict({
          file: entry.name,
          kind: mediaKind(entry.name),
          contentKey: `md5:${entry.md5}`,
          ...(entry.copy !== undefined ? { path: entry.copy } : {}),
          ...optional('durationSec', wavSeconds(entry.head, entry.bytes)),
        });
      } finally {
        if (entry.copy !== undefined) await rm(entry.copy, { force: true });
      }
    }
  } finally {
    await entries.return(undefined);
  }
}

/**
 * An archive URL the emulator does not fetch (a remote host in a sandbox) has no bytes to
 * expand: it stands for a folder named after the archive holding 2 to 5 files, images when an
 * image model is requested and WAVs otherwise, e.g. `faces.zip` → `faces/1.jpg` … `faces/4.jpg`.
 */
function unfetchedArchive(src: ResolvedSource, request: EchoedRequest): MediaFile[] {
  const folder = src.file.replace(/\.(zip|tar|tgz|tbz2?|txz|gz|bz2|xz)$/i, '').replace(/\.tar$/i, '') || 'archive';
  const images = requestedModels(request.models).some((m) => m === 'face' || m === 'facemesh');
  const count = createRandom(`${src.contentKey}|entries`).int(2, 5);
  return Array.from({ length: count }, (_, i) => {
    const file = `${folder}/${i + 1}.${images ? 'jpg' : 'wav'}`;
    return { file, kind: images ? 'image' : 'audio', contentKey: `${src.contentKey}|${file}` };
  });
}

const optional = <K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> =>
  (value === undefined ? {} : { [key]: value }) as Partial<Record<K, V>>;
