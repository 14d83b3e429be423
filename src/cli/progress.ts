/** Shows a run's progress: a live bar on a terminal, plain lines otherwise (logs, CI). */
import cliProgress from 'cli-progress';
import type { RunProgress } from '../workflows/definitions.js';

export interface ProgressView {
  update(progress: RunProgress): void;
  stop(): void;
}

const PLAIN_EVERY_MS = 5_000;

/** What the symbols of a progress line or bar mean: shown in the `--help` of the commands that draw them. */
export const PROGRESS_LEGEND = [
  'Progress (on stderr): "<state>: items <done>/<valid> (failed <n>) | jobs <a>✓ <b>✗ <c>⟳ <d>… | <rate> items/s | ETA <time>"',
  '  items done/valid   items finished (completed or failed) of the valid items',
  '  ✓  batches (one Hume job each, more after resubmissions) completed',
  '  ✗  batches failed',
  '  ⟳  batches in flight: submitting, queued or running at Hume, fetching results',
  '  …  batches not started yet',
  '  state: planning, running, paused, draining, finalizing, completed, failed or cancelled',
].join('\n');

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '--';
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function fields(p: RunProgress) {
  return {
    state: p.state,
    items: `${p.items.completed + p.items.failed}/${p.items.valid}`,
    failed: p.items.failed,
    jobs: `${p.jobs.completed}✓ ${p.jobs.failed}✗ ${p.jobs.inFlight}⟳ ${p.jobs.pending}…`,
    rate: p.itemsPerSecond.toFixed(1),
    etaText: formatDuration(p.etaMs),
  };
}

export function describeProgress(p: RunProgress): string {
  const f = fields(p);
  const paused = p.pausedBy ? ` | paused by itself: ${p.pausedBy.reason} (resume with: temporal-hume resume ${p.runId})` : '';
  return `${f.state}: items ${f.items} (failed ${f.failed}) | jobs ${f.jobs} | ${f.rate} items/s | ETA ${f.etaText}${paused}`;
}

/**
 * A bar on a terminal; otherwise a line when something changed, at most every 5 s: the line
 * `describeProgress` writes, or with `json` the whole RunProgress as one JSON line.
 */
export function createProgressView(stream: NodeJS.WriteStream = process.stderr, options: { json?: boolean } = {}): ProgressView {
  if (options.json || !stream.isTTY) {
    const format = options.json ? (p: RunProgress) => JSON.stringify(p) : describeProgress;
    let last = 0;
    let lastState = '';
    return {
      update(p) {
        const state = describeProgress(p);
        if (state !== lastState && Date.now() - last >= PLAIN_EVERY_MS) {
          stream.write(`${format(p)}\n`);
          last = Date.now();
          lastState = state;
        }
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: '{bar} {percentage}% | items {items} failed {failed} | jobs {jobs} | {rate}/s | ETA {etaText} | {state}',
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(p) {
      const done = p.items.completed + p.items.failed;
      if (!started) {
        bar.start(Math.max(p.items.valid, 1), done, fields(p));
        started = true;
      }
      bar.setTotal(Math.max(p.items.valid, 1));
      bar.update(done, fields(p));
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
