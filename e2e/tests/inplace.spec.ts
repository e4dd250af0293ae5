import { expect, test, type Page } from '@playwright/test';
import { addProduct, baseURL, cartJSON, checkout, receiptOf, rename, setQuantity, signIn, submit, tabOf } from './helpers';

/**
 * Marks the document, and records the main frame's navigations, so a
 * test can tell that nothing reloaded or navigated since.
 */
async function watchForReloads(page: Page): Promise<{ navigations: string[]; stillSameDocument: () => Promise<boolean> }> {
  const navigations: string[] = [];
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) navigations.push(frame.url());
  });
  await page.evaluate(() => {
    (window as unknown as { sameDocument: boolean }).sameDocument = true;
  });
  return {
    navigations,
    stillSameDocument: () => page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument === true),
  };
}

const scrollY = (page: Page) => page.evaluate(() => window.scrollY);

for (const viewport of [
  { width: 1280, height: 800 },
  { width: 390, height: 844 },
]) {
  test.describe(`${viewport.width} px wide`, () => {
    test.use({ viewport });

    test('add, update, remove and rename change the cart in place: no reload, no navigation, no scroll', async ({ page }) => {
      await signIn(page, 'Ann');
      // A product far down the 2,600 px catalogue.
      await page.locator('form.product[data-sku="DRK-008"]').scrollIntoViewIfNeeded();
      const y = await scrollY(page);
      expect(y).toBeGreaterThan(800);
      const watch = await watchForReloads(page);

      await addProduct(page, 'DRK-008', 2); // 2 × Berry Smoothie $4.90
      await expect(page.getByTestId('flashes')).toHaveText('Added 2 × Berry Smoothie');
      await expect(page.getByTestId('cart-badge')).toHaveText('2');
      await expect(page.locator('.cart-bar-items')).toHaveText('2 items');
      await expect(page.locator('form.product[data-sku="DRK-008"] input.qty')).toHaveValue('1');
      expect(await scrollY(page)).toBe(y);

      await addProduct(page, 'DRK-007'); // Iced Coffee $3.80
      await expect(page.getByTestId('cart-total')).toHaveText('$13.60');
      expect(await scrollY(page)).toBe(y);

      if (viewport.width > 900) {
        // The cart sits beside the catalogue: its forms are in reach
        // without scrolling.
        await setQuantity(page, 'DRK-008', 3);
        await expect(page.getByTestId('flashes')).toHaveText('Berry Smoothie: quantity 3');
        await setQuantity(page, 'DRK-007', 0);
        await expect(page.getByTestId('flashes')).toHaveText('Removed Iced Coffee');
        await rename(page, 'Juice bar');
        await expect(page.getByTestId('register-name')).toHaveText('Juice bar');
        await expect(page).toHaveTitle('Juice bar · tabkit POS');
        expect(await scrollY(page)).toBe(y);
        expect((await cartJSON(page.request, 0)).items).toEqual([{ sku: 'DRK-008', qty: 3, price_cents: 490 }]);
      }
      expect(watch.navigations).toEqual([]);
      expect(await watch.stillSameDocument()).toBe(true);
    });
  });
}

test('boosted navigation keeps every pushed URL in the tab', async ({ page, context }) => {
  await signIn(page, 'Ann');
  const second = await context.newPage();
  await second.bringToFront();
  await second.goto(`${baseURL()}/+/`);
  await expect(second).toHaveURL(/\/\d+\/$/);
  const tab = tabOf(second);
  expect(tab).not.toBe(0);
  const watch = await watchForReloads(second);
  const inTab = new RegExp(`^${baseURL()}/${tab}/`);

  await submit(second, second.locator('nav.nav a', { hasText: 'Sales' }));
  await expect(second).toHaveURL(`${baseURL()}/${tab}/sales`);
  await submit(second, second.locator('nav.nav a', { hasText: 'Registers' }));
  await expect(second).toHaveURL(`${baseURL()}/${tab}/registers`);
  await submit(second, second.locator('nav.nav a', { hasText: 'Register' }).first());
  await expect(second).toHaveURL(`${baseURL()}/${tab}/`);
  await addProduct(second, 'SNK-003');
  await checkout(second);
  await expect(second).toHaveURL(new RegExp(`^${baseURL()}/${tab}/sales/[0-9a-f-]{36}$`));
  const receipt = receiptOf(second);
  await expect(second.getByTestId('receipt')).toContainText('Granola Bar');
  await submit(second, second.locator('.receipt-actions a', { hasText: 'All sales' }));
  await expect(second).toHaveURL(`${baseURL()}/${tab}/sales`);

  // Every step was a swap, not a page load, and every URL pushed was the
  // tab's.
  expect(await watch.stillSameDocument()).toBe(true);
  expect(watch.navigations.length).toBeGreaterThanOrEqual(5);
  for (const url of watch.navigations) expect(url).toMatch(inTab);
  // Back loads the page before afresh (no snapshot of it is kept), still
  // in the tab.
  await Promise.all([second.waitForEvent('load'), second.goBack()]);
  await expect(second).toHaveURL(`${baseURL()}/${tab}/sales/${receipt}`);
  await expect(second.locator('main')).toBeVisible();
});

test.describe('refusals show in place', () => {
  /** The csrf token the page's forms carry. */
  const token = (page: Page) => page.locator('form.product input[name="csrf"]').first().inputValue();

  test('403, 409 and 413 from the server', async ({ page }) => {
    await signIn(page, 'Ann');
    await page.goto(`${baseURL()}/+/`);
    const tab = tabOf(page);
    const watch = await watchForReloads(page);

    // 403: an expired form (its token no longer the session's).
    await page.locator('form.product[data-sku="COF-002"] input[name="csrf"]').evaluate((el) => {
      (el as HTMLInputElement).value = 'expired';
    });
    await submit(page, page.locator('form.product[data-sku="COF-002"] button'));
    await expect(page.getByTestId('flashes')).toHaveText(/This form has expired/);
    await expect(page.locator('.flash-error')).toBeVisible();

    // 413: a form past the demo's 64 KiB body limit.
    await page.locator('form.product[data-sku="COF-003"]').evaluate((form) => {
      const big = document.createElement('input');
      big.type = 'hidden';
      big.name = 'padding';
      big.value = 'x'.repeat(70 * 1024);
      form.appendChild(big);
    });
    await submit(page, page.locator('form.product[data-sku="COF-003"] button'));
    await expect(page.getByTestId('flashes')).toHaveText(/too large/);

    // 409: the register was closed meanwhile (from another tab, say).
    const closed = await page.request.post(`${baseURL()}/${tab}/close`, { form: { csrf: await token(page) }, maxRedirects: 0 });
    expect(closed.headers()['location']).toBe(`/closed?tab=${tab}`); // an empty cart closes without asking
    await submit(page, page.locator('form.product[data-sku="COF-004"] button'));
    await expect(page.getByTestId('flashes')).toHaveText(/no longer open/);

    expect(watch.navigations).toEqual([]);
    expect(await watch.stillSameDocument()).toBe(true);
  });

  // A throttled or unavailable server: the demo's htmx routes answer 429
  // and 503 only under load or with the store down, so the answer is
  // played here, as the kit writes it, to check the page shows it.
  for (const [status, body] of [
    [503, '503 Service Unavailable\nThe session store is not answering; nothing was saved.\n'],
    [429, '429 Too Many Requests\nSlow down: too many requests.\n'],
  ] as const) {
    test(`${status} with Retry-After`, async ({ page }) => {
      await signIn(page, 'Ann');
      await page.route('**/cart/items', (route) =>
        route.fulfill({ status, headers: { 'Retry-After': '7', 'Content-Type': 'text/plain; charset=utf-8' }, body }),
      );
      await submit(page, page.locator('form.product[data-sku="TEA-001"] button'));
      await expect(page.getByTestId('flashes')).toHaveText(`${body.split('\n')[1]} Try again in 7 s.`);
      await expect(page.getByTestId('cart-empty')).toBeVisible();
    });
  }

  test('no answer at all', async ({ page }) => {
    await signIn(page, 'Ann');
    await page.route('**/cart/items', (route) => route.abort('connectionrefused'));
    await page.locator('form.product[data-sku="TEA-002"] button').click();
    await expect(page.getByTestId('flashes')).toHaveText(/did not answer/);
  });
});
