/**
 * Headless Chromium (Debian's, never a downloaded browser) driven by playwright-core, and the parts
 * of the Temporal Web UI (v2.42, in the CLI's dev server) that tests read.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium, type FrameLocator, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`no Chromium at ${CHROMIUM_PATH}: apt-get install chromium (.ci/run does)`);
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** A workflow's page; without a run id the UI redirects to the latest run's history. */
export function workflowUrl(uiUrl: string, workflowId: string, namespace = 'default'): string {
  return `${uiUrl}/namespaces/${namespace}/workflows/${encodeURIComponent(workflowId)}`;
}

/** The workflow list filtered by a visibility query, as typed in the UI's search box. */
export function workflowListUrl(uiUrl: string, query: string, namespace = 'default'): string {
  return `${uiUrl}/namespaces/${namespace}/workflows?query=${encodeURIComponent(query)}`;
}

/** One of the tabs of a workflow's page, by its test id: `history`, `relationships`, `user-metadata`, `queries`... */
export async function openTab(page: Page, tab: string): Promise<void> {
  const link = page.getByTestId(`${tab}-tab`);
  const path = await link.getAttribute('href');
  await link.click();
  await page.waitForURL((url) => url.pathname === path);
}

/**
 * The rendered markdown under a heading of the User Metadata tab (`Summary`, `Details`, `Current
 * Details`): the UI renders each in its own iframe, so page-level text searches never see it.
 */
export function markdownPanel(page: Page, heading: string): FrameLocator {
  return page
    .getByRole('heading', { name: heading, exact: true })
    .locator('xpath=ancestor::div[.//iframe[@title="output"]][1]')
    .locator('iframe[title="output"]')
    .contentFrame();
}
