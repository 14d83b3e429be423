/**
 * What an operator sees of a run in the Temporal Web UI, read in a real headless Chromium: the dev
 * server with its UI, the worker and the Hume-compatible server on loopback, and a run of three
 * batches whose Hume jobs take minutes, so it is still running while the browser looks.
 */
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RunHandle, startRun } from '../../src/client.js';
import { type DevServer, startDevServer } from '../../src/devserver/index.js';
import { SEARCH_ATTRIBUTES, statusQuery } from '../../src/workflows/definitions.js';
import { launchChromium, markdownPanel, openTab, workflowListUrl, workflowUrl } from '../helpers/browser.js';
import { type Stack, startStack } from '../helpers/hume-stack.js';
import { uniqueId } from '../helpers/temporal.js';

/** Long enough that no job ends while the browser looks; the run is cancelled at the end. */
const JOB_MS = 600_000;
/** The UI is a single-page app fetching as it goes, on a busy 2-core machine. */
const UI_TIMEOUT_MS = 30_000;

/** A line of the run's details as the UI shows it: its markdown sets `20/30` with a fraction slash (U+2044). */
const detailsLine = (line: string) => new RegExp(line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace('/', '[/\u2044]'));

describe('the Temporal Web UI of a running run', () => {
  let server: DevServer;
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let run: RunHandle;
  let dir: string;
  let runId: string;
  let uiUrl: string;
  const batch = (index: number) => `${run.workflow.workflowId}/batch-${index}`;

  beforeAll(async () => {
    server = await startDevServer({ searchAttributes: SEARCH_ATTRIBUTES });
    uiUrl = server.uiUrl!;
    stack = await startStack({ temporalAddress: server.address, emulator: { timing: { queuedMs: [10, 30], processingMs: [JOB_MS, JOB_MS] } } });
    dir = mkdtempSync(join(tmpdir(), 'temporal-ui-'));
    runId = uniqueId('ui');
    const items = Array.from({ length: 30 }, (_, i) => ({ id: `ui${i}`, text: `ui text ${i}` }));
    run = await startRun(
      stack.temporal.client,
      { runId, outDir: join(dir, 'out'), config: { models: { language: { sentiment: {} } } }, items, maxJobsInFlight: 2, limits: { maxTextsPerJob: 10 }, searchAttributes: true },
      { taskQueue: stack.temporal.taskQueue },
    );
    // Both jobs submitted and waiting on Hume: what the UI shows no longer changes under the browser.
    for (const index of [0, 1]) {
      await vi.waitFor(async () => expect((await stack.temporal.client.workflow.getHandle(batch(index)).query(statusQuery)).phase).toBe('waiting'), { timeout: 60_000, interval: 250 });
    }
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.setDefaultTimeout(UI_TIMEOUT_MS);
  });

  afterAll(async () => {
    await browser?.close();
    // The last test cancels the run; one it did not get to is ended here, whatever state it is in.
    if (run && (await run.workflow.describe()).status.name === 'RUNNING') await run.workflow.terminate('the UI test is over');
    await stack?.close();
    await server?.stop();
  });

  it("shows the parent's current details: state, items done, batches in flight and the results folder", async () => {
    await page.goto(workflowUrl(uiUrl, run.workflow.workflowId));
    await openTab(page, 'user-metadata');
    const details = markdownPanel(page, 'Current Details');
    await details.getByText(detailsLine('running — 0/30 items done (0 failed), 2 batches in flight, 1 pending')).waitFor();
    await details.getByText(`Results folder: ${join(dir, 'out', runId)}`).waitFor();
    // Its children are listed by their summaries among the events with metadata.
    await page.getByText('batch 0 · lines 1–10 · 10 items', { exact: true }).waitFor();
    await page.getByText('batch 1 · lines 11–20 · 10 items', { exact: true }).waitFor();
  });

  it("opens a batch from the parent's relationships and shows its summary and details", async () => {
    await page.goto(workflowUrl(uiUrl, run.workflow.workflowId));
    await openTab(page, 'relationships');
    await page.getByText('Expand All').click();
    await page.getByRole('link', { name: batch(0), exact: true }).click();
    await page.waitForURL((url) => url.pathname.includes(`/${encodeURIComponent(batch(0))}/`));
    await openTab(page, 'user-metadata');
    await markdownPanel(page, 'Summary').getByText('batch 0 · lines 1–10 · 10 items', { exact: true }).waitFor();
    await markdownPanel(page, 'Details').getByText(runId, { exact: true }).waitFor();
  });

  it("shows the batch's submit in its timeline, and its summary in its event history", async () => {
    await page.goto(workflowUrl(uiUrl, batch(0)));
    await page.waitForURL((url) => url.pathname.endsWith('/history'));
    // Texts are submitted by a local activity: the timeline names its marker by activity type.
    await page.locator('svg text', { hasText: 'humeSubmitJob' }).waitFor();
    await page.getByText('submit batch 0 · 10 items').first().waitFor();
  });

  it('lists the run, and only the run, for HumeRunState = "running" in the workflow list', async () => {
    await page.goto(workflowListUrl(uiUrl, 'HumeRunState = "running"'));
    await page.getByRole('link', { name: run.workflow.workflowId, exact: true }).waitFor();
    // Its batches carry HumeRunId, not HumeRunState: one row.
    await page.getByText('1–1 of 1').waitFor();
  });

  it('offers the progress query in the Queries tab, with its description', async () => {
    await page.goto(workflowUrl(uiUrl, run.workflow.workflowId));
    await openTab(page, 'queries');
    await page.getByTestId('query-select-button').click();
    const progress = page.getByRole('option').filter({ has: page.getByText('progress', { exact: true }) });
    await progress.getByText('Where the run stands: state, items and batches done, jobs in flight').waitFor();
  });

  it("keeps a screenshot of the run's details and its batches' summaries", async () => {
    await page.goto(workflowUrl(uiUrl, run.workflow.workflowId));
    await openTab(page, 'user-metadata');
    await markdownPanel(page, 'Current Details').getByText('Results folder').waitFor();
    await page.getByText('batch 1 · lines 11–20 · 10 items', { exact: true }).waitFor();
    const path = join(dir, 'run-details.png');
    await page.screenshot({ path, fullPage: true });
    const png = await readFile(path);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.length).toBeGreaterThan(10_000);
  });

  it('after cancellation with abandon, shows the run cancelled and its finalize step by summary', async () => {
    await run.cancel({ abandon: true });
    const err = await run.result().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    await page.goto(workflowUrl(uiUrl, run.workflow.workflowId));
    await page.locator('svg text', { hasText: 'humeFinalizeRun • finalize results · run cancelled' }).waitFor();
    await openTab(page, 'user-metadata');
    // Abandoned, both batches in flight failed; the third was never started.
    await markdownPanel(page, 'Current Details').getByText(detailsLine('cancelled — 20/30 items done (20 failed), 0 batches in flight, 1 pending')).waitFor();
  });
});
