/**
 * A recorded history as the corpus keeps it: the workflow id replay checks (child ids derive from
 * it), the workflow interceptor modules the run was recorded with (their timers and commands are
 * part of its history, so replay loads the same ones), and the history.
 */
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const root = fileURLToPath(new URL('../../', import.meta.url));

export const Recording = z.object({
  workflowId: z.string(),
  /** Repository-relative paths, so a recording replays from any checkout. */
  interceptors: z.array(z.string()).optional(),
  history: z.unknown(),
});
export type Recording = z.infer<typeof Recording>;

export const interceptorEntry = (modulePath: string) => relative(root, modulePath);
export const interceptorModules = (recording: Recording) => (recording.interceptors ?? []).map((entry) => resolve(root, entry));
