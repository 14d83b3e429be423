/**
 * Recorded histories of representative runs, replayed against today's workflow code: a change
 * that would break running executions (a different sequence of commands) fails here.
 * Record new ones with `npm run record:histories` (see CONTRIBUTING.md for the versioning rule).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { PENDING_START_RECORDING } from '../helpers/pending-start.js';
import { UPDATE_FLOOD_RECORDING, UPDATE_TIPPED_RECORDING } from '../helpers/update-tipped.js';
import { testWorkflowBundle } from '../helpers/temporal.js';
import { interceptorModules, Recording } from './recording.js';

const dir = fileURLToPath(new URL('./histories/', import.meta.url));
const recorded = readdirSync(dir).filter((name) => name.endsWith('.json')).sort();

describe('recorded histories replay on the current workflow code', () => {
  it('has recordings of every representative run', () => {
    for (const kind of ['job-callback', 'job-resubmitted', 'job-failed', 'job-cancelled', 'batch-continued', 'batch-final', 'batch-cancelled', 'batch-paused', 'job-account-blocked', 'batch-child-terminated', 'batch-failed', PENDING_START_RECORDING, UPDATE_TIPPED_RECORDING, UPDATE_FLOOD_RECORDING, 'job-fetch-handed-over', 'job-fetch-refused']) {
      expect(recorded.some((name) => name.startsWith(kind))).toBe(true);
    }
  });

  it.each(recorded)('%s', async (name) => {
    const recording = Recording.parse(JSON.parse(readFileSync(`${dir}${name}`, 'utf8')));
    const workflowBundle = await testWorkflowBundle(interceptorModules(recording));
    await Worker.runReplayHistory({ workflowBundle }, recording.history, recording.workflowId);
  });
});
