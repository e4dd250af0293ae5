import { expect, test, type Page } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addProduct, baseURL, rename, signIn, tabOf } from './helpers';

const output = path.join(__dirname, '..', '..', 'docs', 'screenshot.png');
const shot = { width: 1100, height: 760 };

async function capture(page: Page): Promise<string> {
  await page.bringToFront();
  await page.reload();
  await page.evaluate(() => window.scrollTo(0, 0));
  return (await page.screenshot({ type: 'png' })).toString('base64');
}

function browserFrame(url: string, png: string): string {
  return `<figure class="window">
    <div class="chrome"><span class="dot"></span><span class="dot"></span><span class="dot"></span>
      <span class="url">${url}</span></div>
    <img src="data:image/png;base64,${png}" alt="">
  </figure>`;
}

test('writes docs/screenshot.png: two registers side by side', async ({ browser }) => {
  const context = await browser.newContext({ viewport: shot, deviceScaleFactor: 1 });
  const front = await context.newPage();
  await signIn(front, 'Maya');
  await addProduct(front, 'COF-004', 2);
  await addProduct(front, 'BAK-001');
  await addProduct(front, 'DRK-003');
  await rename(front, 'Front counter');

  const drive = await context.newPage();
  await drive.bringToFront();
  await drive.goto(`${baseURL()}/+/`);
  await addProduct(drive, 'SAN-003');
  await addProduct(drive, 'COF-008', 2);
  await addProduct(drive, 'SNK-006');
  await rename(drive, 'Drive-thru');

  const left = await capture(front);
  const right = await capture(drive);
  const host = new URL(baseURL()).host.replace(/:\d+$/, ':8080');

  // Compose both in one page: two browser windows on a soft backdrop.
  const board = await context.newPage();
  await board.setViewportSize({ width: 2 * 760 + 3 * 36, height: 620 });
  await board.setContent(`<!doctype html><html><head><style>
    body { margin: 0; padding: 36px; display: flex; gap: 36px; align-items: flex-start;
      background: linear-gradient(135deg, #e0e7ff 0%, #f1f5f9 55%, #cffafe 100%);
      font: 13px system-ui, sans-serif; }
    .window { margin: 0; width: 760px; border-radius: 12px; overflow: hidden; background: #fff;
      box-shadow: 0 18px 40px rgb(15 23 42 / 22%), 0 2px 6px rgb(15 23 42 / 12%); }
    .chrome { display: flex; align-items: center; gap: 7px; height: 34px; padding: 0 14px; background: #e5e7eb; }
    .dot { width: 11px; height: 11px; border-radius: 50%; background: #f87171; }
    .dot:nth-child(2) { background: #fbbf24; } .dot:nth-child(3) { background: #34d399; }
    .url { margin-left: 14px; padding: 3px 14px; border-radius: 999px; background: #fff; color: #374151; }
    img { display: block; width: 100%; }
  </style></head><body>
    ${browserFrame(`${host}/${tabOf(front)}/`, left)}
    ${browserFrame(`${host}/${tabOf(drive)}/`, right)}
  </body></html>`);
  await board.waitForLoadState('load');
  const height = await board.evaluate(() => document.body.scrollHeight);
  await board.setViewportSize({ width: 2 * 760 + 3 * 36, height });

  fs.mkdirSync(path.dirname(output), { recursive: true });
  await board.screenshot({ path: output, type: 'png' });
  expect(fs.statSync(output).size).toBeGreaterThan(50_000);
  await context.close();
});
