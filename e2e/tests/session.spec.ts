import { expect, test } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  addProduct, baseURL, cartJSON, checkout, receiptOf, sessionCookie, signIn, signOut, startDemo, submit, tabOf,
} from './helpers';

test('sign-in changes the session cookie; sign-out in one tab signs out every tab', async ({ page, context }) => {
  // A cookie planted before sign-in is never adopted.
  const planted = 'planted-session-value';
  await context.addCookies([{ name: 'tabkit', value: planted, url: baseURL() }]);
  await signIn(page, 'Ann');
  const first = await sessionCookie(context);
  expect(first).toBeTruthy();
  expect(first).not.toBe(planted);

  const second = await context.newPage();
  await second.bringToFront();
  await second.goto(`${baseURL()}/+/`);
  await addProduct(second, 'COF-001', 3);
  await addProduct(page, 'TEA-001');

  // Switching cashier signs in again: a new session ID, the same registers.
  await page.bringToFront();
  await page.goto(`${baseURL()}/login`);
  await expect(page.locator('h1')).toHaveText('Switch cashier');
  await page.locator('#name').fill('Bea');
  await page.locator('#pin').fill(process.env.POS_E2E_PIN ?? '2468');
  await submit(page, page.locator('form[action="/login"] button'));
  const regenerated = await sessionCookie(context);
  expect(regenerated).toBeTruthy();
  expect(regenerated).not.toBe(first);
  expect((await cartJSON(page.request, tabOf(second))).items).toEqual([{ sku: 'COF-001', qty: 3, price_cents: 260 }]);

  await second.bringToFront();
  await second.reload();
  await expect(second.getByTestId('cashier')).toContainText('Bea');

  await page.bringToFront();
  await page.goto(`${baseURL()}/0/`);
  await signOut(page);
  await expect(page.locator('form[action="/login"]')).toBeVisible();
  expect(await sessionCookie(context)).toBeUndefined();

  // The other tab is signed out too, and its cart is gone.
  const secondTab = tabOf(second);
  await second.bringToFront();
  await second.reload();
  await expect(second.locator('form[action="/login"]')).toBeVisible();
  await expect(second.getByTestId('cashier')).toHaveCount(0);
  expect((await cartJSON(second.request, 0)).items).toEqual([]);
  const gone = await second.request.get(`${baseURL()}/${secondTab}/cart.json`, { maxRedirects: 0 });
  expect(gone.status()).toBe(303);
  expect((await second.request.get(`${baseURL()}/sales.json`)).status()).toBe(401);

  // Signing in again starts from nothing.
  await signIn(second, 'Ann');
  expect((await cartJSON(second.request, tabOf(second))).items).toEqual([]);
});

test('carts and sales survive a restart of the demo', async ({ page }) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tabkit-restart-'));
  const db = path.join(dir, 'restart.db');
  let demo = await startDemo(db);
  try {
    await signIn(page, 'Ann', `${demo.base}/0/`);
    await addProduct(page, 'SAN-002'); // Caprese Panini $7.40
    await checkout(page);
    const sale = receiptOf(page);
    await page.goto(`${demo.base}/0/`);
    await addProduct(page, 'DRK-008', 2); // 2 × Berry Smoothie $4.90

    expect(await demo.stop()).toBe(0); // SIGTERM: a clean, graceful exit
    demo = await startDemo(db);

    // Same host, new port: the browser still sends its cookie.
    await page.goto(`${demo.base}/0/`);
    await expect(page.getByTestId('cashier')).toContainText('Ann');
    await expect(page.getByTestId('cart-total')).toHaveText('$9.80');
    expect((await cartJSON(page.request, 0, demo.base)).items).toEqual([{ sku: 'DRK-008', qty: 2, price_cents: 490 }]);
    await page.goto(`${demo.base}/0/sales`);
    await expect(page.locator(`tr[data-sale="${sale}"]`)).toContainText('$7.40');
  } finally {
    await demo.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a forged tab number or a tampered cookie never shows anyone else\'s data', async ({ browser }) => {
  // Ann has a cart in two tabs.
  const ann = await browser.newContext();
  const annPage = await ann.newPage();
  await signIn(annPage, 'Ann');
  await addProduct(annPage, 'COF-008', 4); // Cold Brew
  await annPage.goto(`${baseURL()}/+/`);
  await addProduct(annPage, 'BAK-006'); // Almond Croissant
  const annTab = tabOf(annPage);

  // Bob, in another browser, types Ann's tab numbers and made-up ones:
  // each lands in a fresh tab of his own.
  const bob = await browser.newContext();
  const bobPage = await bob.newPage();
  await signIn(bobPage, 'Bob');
  for (const forged of [annTab, 7, 999]) {
    await bobPage.goto(`${baseURL()}/${forged}/`);
    await expect(bobPage.getByTestId('flashes')).toContainText('That tab is no longer open');
    await expect(bobPage.locator('li.line')).toHaveCount(0);
    await expect(bobPage.locator('#cart')).not.toContainText('Cold Brew');
  }
  const refused = await bobPage.request.post(`${baseURL()}/77/cart/items`, {
    form: { sku: 'COF-001', qty: '1', csrf: 'x' }, maxRedirects: 0,
  });
  expect(refused.status()).toBe(409);

  // Carol holds Ann's cookie with one byte changed: no session at all.
  const annCookie = (await ann.cookies()).find((c) => c.name === 'tabkit')!;
  const flipped = annCookie.value.slice(0, 20) + (annCookie.value[20] === 'A' ? 'B' : 'A') + annCookie.value.slice(21);
  const carol = await browser.newContext();
  await carol.addCookies([{ ...annCookie, value: flipped }]);
  const carolPage = await carol.newPage();
  await carolPage.goto(`${baseURL()}/0/`);
  await expect(carolPage.locator('form[action="/login"]')).toBeVisible();
  await expect(carolPage.locator('body')).not.toContainText('Cold Brew');
  expect((await cartJSON(carolPage.request, 0)).items).toEqual([]);
  expect((await carolPage.request.get(`${baseURL()}/sales.json`)).status()).toBe(401);
  const carolTab = await carolPage.request.get(`${baseURL()}/${annTab}/cart.json`, { maxRedirects: 0 });
  expect(carolTab.status()).toBe(303);

  // Ann is untouched by all of it.
  expect((await cartJSON(annPage.request, 0)).items).toEqual([{ sku: 'COF-008', qty: 4, price_cents: 420 }]);
  expect((await cartJSON(annPage.request, annTab)).items).toEqual([{ sku: 'BAK-006', qty: 1, price_cents: 390 }]);
  await Promise.all([ann.close(), bob.close(), carol.close()]);
});
