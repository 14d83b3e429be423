/**
 * An update answered in a workflow task the server then refuses is aborted with it: an event
 * arrived while the task continued the workflow as new (UNHANDLED_COMMAND), and the caller gets
 * "unexpected workflow task failure", the change lost. `RunHandle` sends such an update again.
 * On the shared dev server, with a fixture workflow whose update handler holds its task open.
 */
import { temporal as proto } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunHandle } from '../../src/client.js';
import { jobFinishedSignal, setMaxJobsInFlightUpdate } from '../../src/workflows/definitions.js';
import { windowQuery } from '../fixtures/refused-task.js';
import { eventsByTask } from '../helpers/history.js';
import { connectTemporal, runFixtureWorker, type TemporalTestContext, uniqueId } from '../helpers/temporal.js';

const HOLD_MS = 1_500;
const UNHANDLED_COMMAND = proto.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND;

describe('an update answered in a workflow task the server refuses', () => {
  let temporal: TemporalTestContext;
  let worker: Awaited<ReturnType<typeof runFixtureWorker>>;
  /** Called each time the update handler holds its task; set by each test. */
  let onHold = () => {};

  beforeAll(async () => {
    temporal = await connectTemporal();
    worker = await runFixtureWorker(temporal, {
      holdTask: async () => {
        onHold();
        await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
      },
    });
  });
  afterAll(async () => {
    await worker?.stop();
    await temporal?.close();
  });

  /** Starts the fixture, sends an update with `send`, and a signal while the update's task is held. */
  async function refuseTheFirstTask<T>(send: (handle: RunHandle) => Promise<T>) {
    const handle = await temporal.client.workflow.start('answersWhileContinuing', { taskQueue: temporal.taskQueue, workflowId: uniqueId('refused'), args: [{ window: 1 }] });
    let holds = 0;
    let held!: () => void;
    const firstHold = new Promise<void>((resolve) => (held = resolve));
    onHold = () => {
      holds++;
      held();
    };
    const answer = send(new RunHandle(handle as never));
    answer.catch(() => undefined);
    await firstHold;
    await handle.signal(jobFinishedSignal, { jobId: 'arrives-meanwhile', status: 'COMPLETED' });
    const outcome = await answer.then((value) => ({ value }), (error: unknown) => ({ error }));
    const history = await temporal.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).fetchHistory();
    const refusals = history.events!.filter((e) => e.workflowTaskFailedEventAttributes?.cause === UNHANDLED_COMMAND).length;
    return { handle, outcome, holds: () => holds, firstRun: eventsByTask(history), refusals };
  }

  it('fails for a caller that sends it once: the server aborted it with the task', async () => {
    const { handle, outcome, refusals } = await refuseTheFirstTask((run) => run.workflow.executeUpdate(setMaxJobsInFlightUpdate, { args: [{ maxJobsInFlight: 7 }] }));
    expect(refusals).toBe(1);
    expect('error' in outcome && String((outcome.error as Error).cause)).toMatch(/unexpected workflow task failure/);
    // The change went with the task: the run still has its window of 1.
    expect(await handle.query(windowQuery)).toBe(1);
    await handle.terminate('test over');
  });

  it('is sent again by RunHandle, and lands: answered once the task is not refused', async () => {
    const { handle, outcome, holds, firstRun, refusals } = await refuseTheFirstTask((run) => run.setMaxJobsInFlight(7));
    expect(refusals).toBe(1);
    expect(outcome).toEqual({ value: { maxJobsInFlight: 7 } });
    // The handler ran twice: in the refused task, and in the one after it, which answered it (its
    // local activity's marker between) and continued as new; nothing of the refused one is kept.
    expect(holds()).toBe(2);
    expect(firstRun.at(-1)).toEqual(['WORKFLOW_EXECUTION_UPDATE_ACCEPTED', 'MARKER_RECORDED', 'WORKFLOW_EXECUTION_UPDATE_COMPLETED', 'WORKFLOW_EXECUTION_CONTINUED_AS_NEW']);
    expect(firstRun.flat().filter((type) => type === 'WORKFLOW_EXECUTION_UPDATE_COMPLETED')).toHaveLength(1);
    expect(await handle.query(windowQuery)).toBe(7);
  });
});
