import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import type { SegmentsState } from '../../pipeline/model/types.ts';
import { loadBundle } from '../../pipeline/registry/bundle.ts';
import type { Lang } from '../../pipeline/10-report/i18n.ts';
import { reportInputOf, writeReport, type ManifestView, type ReportBundleStates } from '../../pipeline/10-report/report.ts';
import { HOSTILE_ID_PREFIX, trainHostileBundle, type HostileBundle } from '../10-report/fixture.ts';

/**
 * The report in a real browser (Debian's chromium through playwright-core): it loads with no
 * request but its own file, no console error and no script run, shows every chart and card in
 * both languages, prints to PDF, and leaves full-page screenshots in test/browser/screenshots/
 * (git-ignored) for a person to look at.
 */
const CHROMIUM = '/usr/bin/chromium';
/** Where screenshots and the PDF go; git-ignored. */
export const SCREENSHOT_DIR = fileURLToPath(new URL('./screenshots', import.meta.url));
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`browser report test skipped: ${CHROMIUM} is missing (CI installs it with apt_install chromium in .ci/run)`);

/** Flags that run chromium in this container: headless, no sandbox (root), nothing that phones home. */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const EXPECTED_CHARTS = ['sizes', 'projection', 'profile', 'lenses', 'adoption', 'abandonment', 'feedback', 'trends', 'k-selection'];

describe.skipIf(!hasChromium)('the HTML report in chromium', () => {
  const work = mkdtempSync(join(tmpdir(), 'finseg-browser-'));
  let fixture: HostileBundle;
  let segments: SegmentsState;
  let browser: Browser;

  beforeAll(async () => {
    fixture = await trainHostileBundle(work);
    segments = loadBundle(fixture.outcome.bundleDir).states['segments.json'] as SegmentsState;
    const { chromium } = await import('playwright-core');
    // launch() gives the browser a fresh temporary profile of its own (the --user-data-dir).
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    rmSync(work, { recursive: true, force: true });
  });

  async function openReport(lang: Lang) {
    const bundle = loadBundle(fixture.outcome.bundleDir);
    // Both languages, this one first: each page sits beside the other and links to it.
    const { html } = await writeReport(bundle.dir, reportInputOf(bundle.manifest as unknown as ManifestView, bundle.states as unknown as ReportBundleStates), { langs: lang === 'en' ? ['en', 'zh'] : ['zh', 'en'] });
    const url = pathToFileURL(html).href;
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
    const requests: string[] = [];
    const blocked: string[] = [];
    const consoleErrors: string[] = [];
    const dialogs: string[] = [];
    // Every request is seen here; anything but the page itself is aborted and recorded.
    await context.route('**/*', (route) => {
      const u = route.request().url();
      requests.push(u);
      if (u === url) return route.continue();
      blocked.push(u);
      return route.abort();
    });
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(url, { waitUntil: 'load' });
    return { page, context, url, requests, blocked, consoleErrors, dialogs };
  }

  for (const lang of ['en', 'zh'] as const) {
    it(`shows every chart and segment card in ${lang}, offline, with no console error`, async () => {
      const { page, context, url, requests, blocked, consoleErrors, dialogs } = await openReport(lang);
      try {
        expect(requests).toEqual([url]);
        expect(blocked).toEqual([]);
        expect(consoleErrors).toEqual([]);
        expect(dialogs).toEqual([]);
        expect(await page.locator('script').count()).toBe(0);

        expect(await page.locator('html').getAttribute('lang')).toBe(lang === 'en' ? 'en-US' : 'zh-CN');
        expect(await page.locator('h1').textContent()).toBe(lang === 'en' ? 'Customer segments' : '客户分群报告');
        // The other language's page, beside this one (index.html / index.zh.html), one click away.
        const other = page.locator('a.lang-switch');
        expect(await other.getAttribute('href')).toBe(lang === 'en' ? 'index.zh.html' : 'index.html');
        expect(await other.textContent()).toBe(lang === 'en' ? '中文版' : 'English');
        expect(url.endsWith(lang === 'en' ? '/report/index.html' : '/report/index.zh.html')).toBe(true);
        const chartIds = await page.locator('figure.chart').evaluateAll((els) => els.map((e) => e.id));
        expect(chartIds).toEqual(EXPECTED_CHARTS.map((id) => `chart-${id}`));
        // Every chart is drawn: an SVG with real size inside each figure.
        const boxes = await page.locator('figure.chart svg').evaluateAll((els) => els.map((e) => e.getBoundingClientRect()).map((r) => [r.width, r.height]));
        expect(boxes).toHaveLength(EXPECTED_CHARTS.length);
        for (const [w, h] of boxes) expect(Math.min(w!, h!)).toBeGreaterThan(100);

        const cards = page.locator('article.segment-card');
        expect(await cards.count()).toBe(segments.cards.length);
        const titles = await cards.locator('h3').allTextContents();
        expect(titles).toEqual(segments.cards.map((c) => c.name[lang]));
        // The markup in the ids reaches the reader as text.
        const firstId = await cards.first().locator('.examples code').first().textContent();
        expect(firstId).toBe(segments.cards[0]!.exampleCustomerIds[0]);
        expect(firstId!.startsWith(HOSTILE_ID_PREFIX)).toBe(true);

        // Nothing sticks out of the page sideways.
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);
        await page.screenshot({ path: join(SCREENSHOT_DIR, `report-${lang}.png`), fullPage: true });
      } finally {
        await context.close();
      }
    });
  }

  it('prints to an A4 PDF with the print styles (no navigation bar, cards kept whole)', async () => {
    const { page, context } = await openReport('en');
    try {
      await page.emulateMedia({ media: 'print' });
      expect(await page.locator('nav.toc').isVisible()).toBe(false);
      expect(await page.locator('a.lang-switch').isVisible()).toBe(false);
      expect(await page.locator('article.segment-card').first().evaluate((e) => getComputedStyle(e).breakInside)).toBe('avoid');
      const pdf = await page.pdf({ format: 'A4', printBackground: true, path: join(SCREENSHOT_DIR, 'report-en.pdf') });
      const pages = pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g)?.length ?? 0;
      expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
      // A cover of charts plus at least one page of cards: more than a couple of pages, far from one per element.
      expect(pages).toBeGreaterThan(3);
      expect(pages).toBeLessThan(40);
    } finally {
      await context.close();
    }
  });
});
