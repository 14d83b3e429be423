/** What the Temporal UI shows as a run's current details: where it stands, and why when it is stuck. */
import type { RunProgress } from './definitions.js';

export function runDetails(p: RunProgress): string {
  const done = p.items.completed + p.items.failed;
  const lines = [
    `**${p.state}** — ${done}/${p.items.valid} items done (${p.items.failed} failed), ${p.jobs.inFlight} batches in flight, ${p.jobs.pending} pending`,
    `Results folder: \`${p.runDir}\``,
  ];
  if (p.pausedBy) {
    lines.push(`Paused by itself after batch ${p.pausedBy.batch}: ${p.pausedBy.reason}`);
    lines.push(`Fix the cause, then \`temporal-hume resume ${p.runId}\`: nothing done is lost or redone.`);
  } else if (p.state === 'paused') {
    lines.push(`Paused on request: \`temporal-hume resume ${p.runId}\` goes on.`);
  }
  if (p.error) lines.push(`Error: ${p.error}`);
  const last = p.failures.at(-1);
  if (last) lines.push(`Last failure (batch ${last.batch}): ${last.error}`);
  return lines.join('\n\n');
}
