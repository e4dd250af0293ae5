import { expect, test } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PIN, startDemo } from './helpers';

// A demo of its own: wrong PINs from 127.0.0.1 would throttle the shared
// one for every other test.
test('wrong PINs: the name stays, a reload sends nothing, and the sixth try gets 429', async ({ page }) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tabkit-pin-'));
  const demo = await startDemo(path.join(dir, 'pos.db'));
  try {
    await page.goto(`${demo.base}/0/`);
    const posts: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST') posts.push(r.url());
    });
    const tryPIN = async (pin: string) => {
      await page.locator('#pin').fill(pin);
      const [res] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/login'),
        page.locator('form[action="/login"] button').click(),
      ]);
      await page.waitForLoadState();
      return res;
    };

    await page.locator('#name').fill('Ann');
    expect((await tryPIN('0000')).status()).toBe(303);
    await expect(page).toHaveURL(/\/login\?/);
    await expect(page.getByTestId('signin-error')).toHaveText('That PIN is not right. Try again.');
    await expect(page.locator('#name')).toHaveValue('Ann');

    // Post, redirect, get: a reload asks nothing of the browser and sends
    // no PIN again.
    const before = posts.length;
    await page.reload();
    expect(posts.length).toBe(before);
    await expect(page.getByTestId('signin-error')).toBeVisible();
    await expect(page.locator('#name')).toHaveValue('Ann');

    for (let i = 2; i <= 5; i++) {
      expect((await tryPIN(`000${i}`)).status(), `wrong PIN ${i}`).toBe(303);
    }
    const refused = await tryPIN('0006');
    expect(refused.status()).toBe(429);
    expect(Number(refused.headers()['retry-after'])).toBeGreaterThan(0);
    await expect(page.getByTestId('signin-error')).toContainText('Too many wrong PINs');
    await expect(page.locator('#name')).toHaveValue('Ann');
    // While throttled even the right PIN is not checked.
    expect((await tryPIN(PIN)).status()).toBe(429);
    expect((await page.context().cookies()).find((c) => c.name === 'tabkit')).toBeUndefined();
  } finally {
    await demo.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
