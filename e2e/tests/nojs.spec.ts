import { expect, test } from '@playwright/test';
import { addProduct, baseURL, cartJSON, checkout, receiptOf, rename, setQuantity, signIn, signOut, tabOf } from './helpers';

test.use({ javaScriptEnabled: false });

test('without JavaScript every flow works', async ({ page, context }) => {
  await signIn(page, 'Ann');
  await expect(page.locator('script[src="/static/tabs.js"]')).toHaveCount(1); // present, but not run

  // Add, change, remove.
  await addProduct(page, 'COF-002', 2); // 2 × Double Espresso $3.20
  await addProduct(page, 'BAK-003'); // Cinnamon Roll $3.60
  await expect(page.getByTestId('flashes')).toHaveText('Added 1 × Cinnamon Roll');
  await setQuantity(page, 'COF-002', 5);
  await expect(page.getByTestId('flashes')).toHaveText('Double Espresso: quantity 5');
  await setQuantity(page, 'BAK-003', 0);
  await expect(page.getByTestId('flashes')).toHaveText('Removed Cinnamon Roll');
  await expect(page.getByTestId('cart-total')).toHaveText('$16.00');
  await rename(page, 'No-script till');
  await expect(page.getByTestId('register-name')).toHaveText('No-script till');

  // Open a register: a plain link with target=_blank.
  const [opened] = await Promise.all([context.waitForEvent('page'), page.getByTestId('open-register').click()]);
  await opened.waitForURL(/\/\d+\/$/);
  expect(tabOf(opened)).not.toBe(tabOf(page));
  await addProduct(opened, 'TEA-004'); // Matcha Latte $4.50
  await opened.goto(`${baseURL()}/${tabOf(opened)}/registers`);
  await expect(opened.locator('[data-testid="registers"] li')).toHaveCount(2);

  // Checkout, receipt, sales list.
  await checkout(page);
  // Receipt IDs are UUIDv7s, and the ledger is the shop's: no longer 0001.
  await expect(page).toHaveURL(/\/0\/sales\/[0-9a-f-]{36}$/);
  const sale = receiptOf(page);
  await expect(page.getByTestId('receipt-total')).toHaveText('$16.00');
  await opened.bringToFront();
  await opened.goto(`${baseURL()}/${tabOf(opened)}/sales`);
  await expect(opened.locator(`tr[data-sale="${sale}"]`)).toContainText('No-script till');
  expect((await cartJSON(page.request, tabOf(opened))).items).toEqual([{ sku: 'TEA-004', qty: 1, price_cents: 450 }]);

  // Sign out, and back in.
  await page.bringToFront();
  await page.goto(`${baseURL()}/0/`);
  await signOut(page);
  await expect(page.locator('form[action="/login"]')).toBeVisible();
  await opened.bringToFront();
  await opened.reload();
  await expect(opened.locator('form[action="/login"]')).toBeVisible();
  await signIn(page, 'Ann');
  await expect(page.getByTestId('cart-empty')).toBeVisible();
});

test('without JavaScript a duplicated tab shares its register', async ({ page, context }) => {
  await signIn(page, 'Ann');
  await addProduct(page, 'SNK-002');
  const copy = await context.newPage();
  await copy.bringToFront();
  await copy.goto(page.url());
  await expect(copy).toHaveURL(page.url());
  await expect(copy.locator('li.line[data-sku="SNK-002"]')).toBeVisible();
});
