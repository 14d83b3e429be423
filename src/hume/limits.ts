/** Hume's documented batch limits (v0). Callers may configure lower ones, never higher. */
export const HUME_LIMITS = {
  /** URLs per request. */
  maxUrlsPerJob: 100,
  /** Raw text strings per request. */
  maxTextsPerJob: 100,
  /** Local files per multipart request (an archive counts as one). */
  maxFilesPerJob: 100,
  /** One local (multipart) file, bytes: 100 MB. */
  maxLocalFileBytes: 100 * 1024 * 1024,
  /** One raw text string, bytes (UTF-8): 255 MB. */
  maxTextBytes: 255 * 1024 * 1024,
  /** Jobs queued at once per account. */
  maxQueuedJobs: 500,
} as const;

export type HumeLimits = { -readonly [K in keyof typeof HUME_LIMITS]: number };
