// Opens a page in Debian's Chromium with JavaScript turned off, checks that
// it reads without it (heading, inline SVG charts with drawn bars, no
// request leaving the page) and saves a screenshot.
//
//   node screenshot.mjs PAGE.html OUT.png
//
// Prints one JSON object with what it saw; exits 1 on a failed check.
import { chromium } from 'playwright-core';
import { pathToFileURL } from 'node:url';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [page_file, out] = process.argv.slice(2);
if (!page_file || !out) {
  console.error('usage: node screenshot.mjs PAGE.html OUT.png');
  process.exit(2);
}

const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const context = await chromium.launchPersistentContext(
  mkdtempSync(join(tmpdir(), 'writ-chromium-')),
  {
    executablePath,
    headless: true,
    javaScriptEnabled: false,
    viewport: { width: 1100, height: 900 },
    args: [
      '--no-sandbox', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  },
);
const failures = [];
try {
  const page = await context.newPage();
  const requests = [];
  page.on('request', (r) => {
    if (!r.url().startsWith('file:')) requests.push(r.url());
  });
  await page.goto(pathToFileURL(page_file).href, { waitUntil: 'load' });
  const seen = await page.evaluate(() => {
    const charts = [...document.querySelectorAll('svg')].map((svg) => {
      const box = svg.getBoundingClientRect();
      const bars = [...svg.querySelectorAll('rect')].filter((r) => {
        const b = r.getBoundingClientRect();
        return b.width > 0 && b.height > 0;
      });
      return { label: svg.getAttribute('aria-label'), width: box.width, height: box.height, bars: bars.length };
    });
    const report = document.getElementById('writ-report');
    return {
      title: document.title,
      heading: document.querySelector('h1')?.textContent ?? null,
      charts,
      tables: document.querySelectorAll('table').length,
      embedded: report ? JSON.parse(report.textContent).period : null,
      width: document.documentElement.scrollWidth,
    };
  });
  seen.requests = requests;
  if (!seen.heading || !seen.heading.startsWith('Transparency report')) failures.push('no heading');
  if (seen.charts.length < 3) failures.push(`only ${seen.charts.length} charts`);
  for (const c of seen.charts) {
    if (c.width < 100 || c.height < 50) failures.push(`chart ${c.label} is ${c.width}x${c.height}`);
    if (c.bars === 0) failures.push(`chart ${c.label} draws no bar`);
  }
  if (requests.length > 0) failures.push(`the page loads ${requests.join(', ')}`);
  if (seen.width > 1100) failures.push(`the page is ${seen.width}px wide in a 1100px window`);
  await page.screenshot({ path: out, fullPage: true });
  seen.failures = failures;
  console.log(JSON.stringify(seen));
} finally {
  await context.close();
}
process.exit(failures.length > 0 ? 1 : 0);
