/**
 * Where manifests, media files and results live: a local path, or `s3://bucket/key`. One parser,
 * so every activity, the CLI and the planner agree on what a location means.
 */
import { dirname, isAbsolute, posix, resolve } from 'node:path';

export type Location = { kind: 'fs'; path: string } | { kind: 's3'; bucket: string; key: string };

const S3_SCHEME = 's3://';
/** S3's own rule for bucket names (3–63 lowercase letters, digits, dots, hyphens). */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export class LocationError extends Error {
  override readonly name = 'LocationError';
}

export function isS3Location(text: string): boolean {
  return text.startsWith(S3_SCHEME);
}

/** Parses a location; a local path is made absolute against the working directory. */
export function parseLocation(text: string): Location {
  if (!isS3Location(text)) return { kind: 'fs', path: resolve(text) };
  const rest = text.slice(S3_SCHEME.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  if (!BUCKET_NAME.test(bucket)) throw new LocationError(`${text}: "${bucket}" is not a valid S3 bucket name`);
  const key = slash === -1 ? '' : posix.normalize(rest.slice(slash + 1)).replace(/^(\.\/?)+|\/+$/g, '');
  if (key.startsWith('..')) throw new LocationError(`${text}: the key leaves the bucket`);
  return { kind: 's3', bucket, key };
}

/** The canonical text of a location: an absolute path, or `s3://bucket/key` without a trailing slash. */
export function formatLocation(location: Location): string {
  if (location.kind === 'fs') return location.path;
  return location.key ? `${S3_SCHEME}${location.bucket}/${location.key}` : `${S3_SCHEME}${location.bucket}`;
}

/** `text` in canonical form (local paths absolute). */
export function normalizeLocation(text: string): string {
  return formatLocation(parseLocation(text));
}

/** `child` as seen from the folder `base`: absolute paths and `s3://` locations stand as given. */
export function resolveLocation(base: string, child: string): string {
  if (isS3Location(child)) return normalizeLocation(child);
  const parent = parseLocation(base);
  if (parent.kind === 'fs') return resolve(parent.path, child);
  if (isAbsolute(child)) return child;
  return formatLocation({ ...parent, key: posix.join(parent.key, child) });
}

/** The folder holding a location. */
export function parentLocation(text: string): string {
  const location = parseLocation(text);
  if (location.kind === 'fs') return dirname(location.path);
  return formatLocation({ ...location, key: posix.dirname(location.key) === '.' ? '' : posix.dirname(location.key) });
}

/** The last segment of a location (a file's name). */
export function nameOfLocation(text: string): string {
  const location = parseLocation(text);
  return location.kind === 'fs' ? location.path.split('/').pop()! : posix.basename(location.key);
}
