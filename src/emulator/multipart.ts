/**
 * The local-file variant of POST /v0/batch/jobs. Uploads are streamed: md5 and size are
 * computed as the bytes arrive and nothing is kept, so a 100 MB file never sits in memory.
 * The `json` part is accepted as a text field or as a file part, in any position.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import type { ResolvedOptions } from './options.js';
import { ValidationError, type UploadedFile } from './request.js';

export interface MultipartJob {
  /** The parsed `json` part, or undefined when there was none (all models, defaults). */
  json: unknown;
  files: UploadedFile[];
}

export async function readMultipart(req: FastifyRequest, limits: ResolvedOptions['limits']): Promise<MultipartJob> {
  let json: unknown;
  const files: UploadedFile[] = [];
  const addFile = (file: UploadedFile): void => {
    if (files.length >= limits.maxFilesPerJob) {
      throw new ValidationError(`too many files: more than ${limits.maxFilesPerJob} (limit maxFilesPerJob = ${limits.maxFilesPerJob} per job)`);
    }
    files.push(file);
  };
  for await (const part of req.parts()) {
    if (part.fieldname === 'json') {
      json = parseJsonPart(part.type === 'file' ? await readAll(part.file) : String(part.value));
    } else if (part.fieldname === 'file' && part.type === 'file') {
      // Without a filename Hume named the result "file" (hume-python-sdk#76).
      const filename = part.filename || 'file';
      const md5 = await md5Of(part.file);
      if (part.file.truncated) {
        throw new ValidationError(
          `file ${JSON.stringify(filename)} is larger than the 100 MB local file limit (limit maxLocalFileBytes = ${limits.maxLocalFileBytes} bytes)`,
        );
      }
      addFile({ filename, content_type: part.mimetype || null, md5sum: md5 });
    } else if (part.fieldname === 'file' && part.type === 'field') {
      // A `file` part sent without a filename arrives as a plain field.
      addFile({ filename: 'file', content_type: part.mimetype || null, md5sum: createHash('md5').update(String(part.value)).digest('hex') });
    } else if (part.type === 'file') {
      part.file.resume(); // unknown part: drain it so parsing goes on
    }
  }
  return { json, files };
}

function parseJsonPart(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError('the json part is not valid JSON');
  }
}

async function md5Of(stream: Readable): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
