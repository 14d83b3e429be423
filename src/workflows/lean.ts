/**
 * The patches that made a job cheap in history (issue 15, BENCHMARKS.md). Each is decided once,
 * before the commands it changes, so an execution begun by an older worker — mixed fleets during
 * a rolling deploy, every recorded history — replays the way it was recorded.
 *
 * `LEAN_JOB`, in `humeJob` (its marker and the SDK's `TemporalChangeVersion` upsert cost two
 * events, which the older `fetch-on-completed-callback` patch cost as well):
 * - a COMPLETED callback goes straight to the predictions download;
 * - a completed batch tells its parent only when asked (`reportWhenDone`): the parent run that
 *   started it hears of it from the child's close; a run continued as new asks the children it
 *   carried (`LEAN_BATCH`). Failed, cancelled and blocked batches still report by signal: theirs
 *   carries the Hume job ids a cancelled child's close does not;
 * - no memo per job: the Hume job ids are in the status query, the job's result, the submissions
 *   journal (which supervision reads) and, when asked for, the HumeJobIds attribute;
 * - a job without files (texts and URLs: one short JSON request) is submitted by a local activity
 *   inside its workflow task, handed to the scheduled activity when that cannot be done at once;
 * - a callback leaves the silence timer running instead of cancelling it (an event);
 * - after a COMPLETED callback, the predictions of a few short texts (no files, URLs or
 *   artifacts, at most 64 Ki of text) are fetched by a local activity too, handed to the
 *   scheduled fetch when that cannot be done at once (anything but Hume's refusal).
 *
 * `LEAN_BATCH`, in a continued `humeBatch` run with batches in flight: ask them to report.
 */
export const LEAN_JOB = 'lean-job';
export const LEAN_BATCH = 'ask-carried-batches-to-report';
