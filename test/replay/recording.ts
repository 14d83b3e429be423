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
  /** The history as Temporal's JSON has it; only its events are checked here, replay reads the rest. */
  history: z.object({ events: z.array(z.unknown()).min(1) }).loose(),
});
export type Recording = z.infer<typeof Recording>;

export const interceptorEntry = (modulePath: string) => relative(root, modulePath);
export const interceptorModules = (recording: Recording) => (recording.interceptors ?? []).map((entry) => resolve(root, entry));
