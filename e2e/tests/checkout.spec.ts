import { expect, test, type Page } from '@playwright/test';
import { addProduct, baseURL, receiptOf, salesBy, signIn, tabOf, uniqueName } from './helpers';

/** Counts the checkout POSTs a page sends. */
function countCheckouts(page: Page): { posts: number } {
  const seen = { posts: 0 };
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname.endsWith('/checkout')) seen.posts++;
  });
  return seen;
}

for (const javaScriptEnabled of [true, false]) {
  test.describe(javaScriptEnabled ? 'with JavaScript' : 'without JavaScript', () => {
    test.use({ javaScriptEnabled });

    test('a double-clicked checkout rings one sale', async ({ page }) => {
      const cashier = uniqueName('Dee');
      await signIn(page, cashier);
      await addProduct(page, 'COF-005', 2); // 2 × Flat White $3.90
      await addProduct(page, 'BAK-002'); // Pain au Chocolat $3.30
      const seen = countCheckouts(page);
      await page.locator('.button-checkout').dblclick();
      await expect(page).toHaveURL(/\/sales\/[0-9a-f-]{36}$/);
      await expect(page.getByTestId('receipt-total')).toHaveText('$11.10');
      const sales = await salesBy(page.request, cashier);
      expect(sales.map((s) => s.id)).toEqual([receiptOf(page)]);
      // With htmx the button is disabled once the first click sends the
      // form; without it the browser may send both, and the key keeps
      // the second from ringing.
      expect(seen.posts).toBeGreaterThanOrEqual(1);
      test.info().annotations.push({ type: 'checkout posts', description: String(seen.posts) });
    });

    test('Back and resubmitting the checkout rings no second sale', async ({ page }) => {
      const cashier = uniqueName('Eve');
      await signIn(page, cashier);
      await addProduct(page, 'SAN-004'); // Tuna Melt $7.60
      const tab = tabOf(page);
      const form = {
        csrf: await page.locator('.checkout-form input[name="csrf"]').inputValue(),
        key: await page.locator('.checkout-form input[name="key"]').inputValue(),
      };
      await page.locator('.button-checkout').click();
      await expect(page).toHaveURL(/\/sales\/[0-9a-f-]{36}$/);
      const receipt = receiptOf(page);

      // Back: without JavaScript a page load; with htmx a history step
      // that reloads (no snapshots are kept). Either way, a load.
      await Promise.all([page.waitForEvent('load'), page.goBack()]);
      await expect(page).toHaveURL(`${baseURL()}/${tab}/`);
      await expect(page.getByTestId('cart-empty')).toBeVisible();
      // The register page is not kept (no-store), so Back shows the empty
      // cart. A browser that does restore the old page sends the old form
      // again: that form, as it was, is posted here.
      await page.evaluate(({ tab, form }) => {
        const f = document.createElement('form');
        f.method = 'post';
        f.action = `/${tab}/checkout`;
        for (const [name, value] of Object.entries(form)) {
          const input = document.createElement('input');
          input.type = 'hidden';
          input.name = name;
          input.value = value;
          f.appendChild(input);
        }
        document.body.appendChild(f);
        f.submit();
      }, { tab, form });
      await expect(page).toHaveURL(`${baseURL()}/${tab}/sales/${receipt}`);
      await expect(page.getByTestId('flashes')).toContainText('Already checked out');
      expect((await salesBy(page.request, cashier)).map((s) => s.id)).toEqual([receipt]);
    });
  });
}
