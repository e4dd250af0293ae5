import { expect, test } from '@playwright/test';
import { addProduct, baseURL, cartJSON, signIn, tabOf } from './helpers';

test('a page opened on an open tab\'s URL forks into a new, empty register', async ({ page, context }) => {
  await signIn(page, 'Ann');
  await addProduct(page, 'COF-005', 2); // 2 × Flat White $3.90
  await addProduct(page, 'BAK-002'); // Pain au Chocolat $3.30
  const original = tabOf(page);
  const before = await cartJSON(page.request, original);

  // The same URL in a new page, as a pasted link or "Duplicate tab" would.
  const copy = await context.newPage();
  await copy.bringToFront();
  await copy.goto(`${baseURL()}/${original}/`);
  await expect(copy).not.toHaveURL(new RegExp(`/${original}/$`), { timeout: 10_000 });
  await expect(copy).toHaveURL(/\/\d+\/$/);
  const forked = tabOf(copy);
  expect(forked).not.toBe(original);
  await expect(copy.getByTestId('cart-empty')).toBeVisible();
  expect((await cartJSON(copy.request, forked)).items).toEqual([]);

  // Editing the copy leaves the original alone.
  await addProduct(copy, 'DRK-005'); // Lemonade
  await expect(copy.getByTestId('cart-count')).toHaveText('1');
  expect(await cartJSON(page.request, original)).toEqual(before);
  await page.bringToFront();
  await page.reload();
  await expect(page).toHaveURL(new RegExp(`/${original}/$`)); // a reload keeps its number
  await expect(page.getByTestId('cart-count')).toHaveText('3');

  // The registers page lists both; following its link to the copy's
  // register shows that register here on purpose, without forking.
  await page.goto(`${baseURL()}/${original}/registers`);
  const row = page.locator(`[data-testid="registers"] li[data-tab="${forked}"]`);
  await expect(row).toContainText('1 item');
  await Promise.all([page.waitForNavigation(), row.locator('a').click()]);
  await page.waitForTimeout(1_000); // longer than a holder takes to answer
  await expect(page).toHaveURL(new RegExp(`/${forked}/$`));
  await expect(page.getByTestId('cart-count')).toHaveText('1');
});
