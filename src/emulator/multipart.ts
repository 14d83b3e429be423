/**
 * The local-file variant of POST /v0/batch/jobs. Uploads stream to the job's folder, md5 and
 * size computed as the bytes arrive, so a 100 MB file never sits in memory. The `json` part is
 * accepted as a text field or as a file part, in any position, and read by the JSON intake.
 */
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { storeStream } from './job-files.js';
import { readJsonStream, type JsonIntake } from './json-intake.js';
import type { ResolvedOptions } from './options.js';
import { ValidationError, type StoredUpload } from './request.js';

export interface MultipartJob extends JsonIntake {
  uploads: StoredUpload[];
}

export async function readMultipart(req: FastifyRequest, dir: string, limits: ResolvedOptions['limits']): Promise<MultipartJob> {
  let json: JsonIntake = { value: undefined, texts: [] };
  const uploads: StoredUpload[] = [];
  const checkCount = (): void => {
    if (uploads.length >= limits.maxFilesPerJob) {
      throw new ValidationError(`too many files: more than ${limits.maxFilesPerJob} (limit maxFilesPerJob = ${limits.maxFilesPerJob} per job)`);
    }
  };
  for await (const part of req.parts()) {
    if (part.fieldname === 'json') {
      // A text field is already buffered by the multipart parser; a file part streams.
      const stream = part.type === 'file' ? part.file : Readable.from([Buffer.from(String(part.value))]);
      json = await readJsonStream(stream, 'the json part', dir, limits);
    } else if (part.fieldname === 'file' && part.type === 'file') {
      checkCount();
      // Without a filename Hume named the result "file" (hume-python-sdk#76).
      const filename = part.filename || 'file';
      const stored = await storeStream(part.file, join(dir, `file-${uploads.length}`), 'md5', Infinity);
      if (part.file.truncated) {
        throw new ValidationError(
          `file ${JSON.stringify(filename)} is larger than the 100 MB local file limit (limit maxLocalFileBytes = ${limits.maxLocalFileBytes} bytes)`,
        );
      }
      uploads.push({ echo: { filename, content_type: part.mimetype || null, md5sum: stored.digest }, path: stored.path, bytes: stored.bytes });
    } else if (part.fieldname === 'file' && part.type === 'field') {
      // A `file` part sent without a filename arrives as a plain (small, buffered) field.
      checkCount();
      const stored = await storeStream(Readable.from([Buffer.from(String(part.value))]), join(dir, `file-${uploads.length}`), 'md5', Infinity);
      uploads.push({ echo: { filename: 'file', content_type: part.mimetype || null, md5sum: stored.digest }, path: stored.path, bytes: stored.bytes });
    } else if (part.type === 'file') {
      part.file.resume(); // unknown part: drain it so parsing goes on
    }
  }
  return { ...json, uploads };
}
