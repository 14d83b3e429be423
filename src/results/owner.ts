/**
 * The owner record, `<run>/owner.json`: the run that created a results folder. Planning claims
 * the folder before it writes anything else there; a later run with the same run id finds the
 * record and is refused, so it never inherits the batch outcomes another run left in `jobs/`.
 * Redrives follow the run they redrive: they neither check nor change the record.
 */
import { z } from 'zod';
import { describeIssues } from '../schemas/issues.js';
import type { ResultStore } from '../store/store.js';
import { CSV_DIR, JOBS_DIR, OWNER_JSON, RUN_JSON, RUN_RESULT_ENTRIES } from './layout.js';

/**
 * A run, as Temporal knows it: the workflow id and the first run id of its execution chain, which
 * stays the same across continue-as-new, workflow retries and resets, and differs for a new run
 * started later under the same workflow id.
 */
export const RunOwner = z.object({ workflowId: z.string().min(1), firstExecutionRunId: z.string().min(1) });
export type RunOwner = z.infer<typeof RunOwner>;

/** Who plans: a run, or (workflowId null) a caller outside any workflow, which no one else matches. */
export interface Planner {
  workflowId: string | null;
  firstExecutionRunId: string;
}

export const OwnerRecord = z
  .object({
    workflowId: z.string().min(1).nullable(),
    firstExecutionRunId: z.string().min(1),
    createdAt: z.string(),
    /** Set when the run was refused at planning: it left nothing to protect, and its id is free again. */
    refusedAt: z.string().optional(),
  })
  .loose();
export type OwnerRecord = z.infer<typeof OwnerRecord>;

export type Claim =
  | { claimed: true; owner: OwnerRecord }
  /** `reason`: one line naming the folder and who or what holds it. */
  | { claimed: false; reason: string; owner?: OwnerRecord; found?: string[] };

/**
 * Claims the folder for `planner`: fine when it is missing or empty (then the record is written,
 * atomically and only if no one wrote one meanwhile), or when the record names the same run
 * (a retried or reset planning, which re-plans). Refused when the record names another run, or
 * when there is no record but a plan or results are already there.
 */
export async function claimRunFolder(store: ResultStore, planner: Planner, now: Date): Promise<Claim> {
  const dir = store.resolve('.');
  let existing = await readOwner(store);
  if (existing === undefined) {
    const found = (await store.list('.')).filter((name) => RUN_RESULT_ENTRIES.includes(name));
    if (found.length > 0) {
      const redrive = found.includes(RUN_JSON) ? ', or redrive the run that is there' : '';
      const shown = found.map((name) => (name === JOBS_DIR || name === CSV_DIR ? `${name}/` : name)).join(', ');
      return {
        claimed: false,
        found,
        reason: `the run folder ${dir} already holds ${shown} but no ${OWNER_JSON} (a run from before owner records, or not a run's folder): choose another run id${redrive}`,
      };
    }
    const record: OwnerRecord = { ...planner, createdAt: now.toISOString() };
    if (await store.writeJsonOnce(OWNER_JSON, record)) return { claimed: true, owner: record };
    // Another planner wrote its record between our read and our write: it decides.
    existing = await readOwner(store);
    if (existing === undefined) throw new Error(`${dir}/${OWNER_JSON} appeared and vanished while the folder was claimed`);
  }
  if (typeof existing === 'string') return { claimed: false, reason: `the run folder ${dir} holds an ${OWNER_JSON} that is not an owner record (${existing}): choose another run id` };
  if (isSameRun(existing, planner)) {
    // Planning again after a refusal (a reset run, the manifest fixed): the folder is held again.
    if (existing.refusedAt === undefined) return { claimed: true, owner: existing };
    const { refusedAt: _, ...held } = existing;
    await store.writeJson(OWNER_JSON, held);
    return { claimed: true, owner: held };
  }
  // A run still planning has no plan in the folder yet either: only the record tells them apart.
  const unplanned = (await store.list('.')).every((name) => !RUN_RESULT_ENTRIES.includes(name));
  if (existing.refusedAt !== undefined && unplanned) {
    // A run refused at planning (a bad manifest) left nothing to protect: the next run may take the id.
    // Of several taking it at once, the one that creates the takeover record of this refusal wins.
    const record: OwnerRecord = { ...planner, createdAt: now.toISOString() };
    if (!(await store.writeJsonOnce(takeoverRecord(existing), record))) {
      return { claimed: false, owner: existing, reason: `the run folder ${dir} is being taken over by another run at this moment: choose another run id` };
    }
    await store.writeJson(OWNER_JSON, record);
    return { claimed: true, owner: record };
  }
  const stage = unplanned ? ' (its planning has not finished: still planning, or stopped before it did)' : '';
  return { claimed: false, owner: existing, reason: `the run folder ${dir} ${describeOwner(existing, planner)}${stage}: a run id is used by one run; choose another run id, or redrive that run` };
}

/** Marks the folder's run as refused at planning, which frees its id for the next run. */
export async function releaseRunFolder(store: ResultStore, owner: OwnerRecord, now: Date): Promise<void> {
  await store.writeJson(OWNER_JSON, { ...owner, refusedAt: now.toISOString() });
}

/** The record; what is wrong with the file when it is not one; `undefined` when there is none. */
export async function readOwner(store: ResultStore): Promise<OwnerRecord | string | undefined> {
  let raw: unknown;
  try {
    raw = await store.readJson(OWNER_JSON);
  } catch (e) {
    if (e instanceof SyntaxError) return 'not JSON';
    throw e;
  }
  if (raw === undefined) return undefined;
  const parsed = OwnerRecord.safeParse(raw);
  return parsed.success ? parsed.data : describeIssues(parsed.error);
}

/** Named by the refusal it ends, so each refusal is taken over once. */
const takeoverRecord = (refused: OwnerRecord): string => `owner.taken-${`${refused.firstExecutionRunId}-${refused.refusedAt}`.replace(/[^A-Za-z0-9._-]/g, '_')}.json`;

function isSameRun(owner: OwnerRecord, planner: Planner): boolean {
  return owner.workflowId !== null && owner.workflowId === planner.workflowId && owner.firstExecutionRunId === planner.firstExecutionRunId;
}

function describeOwner(owner: OwnerRecord, planner: Planner): string {
  const since = `since ${owner.createdAt}`;
  if (owner.workflowId === null) return `belongs to a planning made outside any workflow (${since})`;
  if (owner.workflowId === planner.workflowId) {
    return `belongs to an earlier run of workflow ${owner.workflowId} (first run ${owner.firstExecutionRunId}, ${since}), not to this one (first run ${planner.firstExecutionRunId})`;
  }
  return `belongs to workflow ${owner.workflowId} (first run ${owner.firstExecutionRunId}, ${since}), not to ${planner.workflowId ?? 'this planning outside any workflow'}`;
}
