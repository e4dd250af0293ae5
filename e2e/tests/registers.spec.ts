import { expect, test, type Page } from '@playwright/test';
import { addProduct, baseURL, cartJSON, checkout, receiptOf, rename, signIn, submit, tabOf } from './helpers';

/** Opens a second register in a new page of the same context. */
async function openRegister(page: Page): Promise<Page> {
  const second = await page.context().newPage();
  await second.bringToFront();
  await second.goto(`${baseURL()}/+/`);
  await expect(second).toHaveURL(/\/\d+\/$/);
  return second;
}

/** Every root-relative link and form of a page must stay in its tab. */
async function expectLinksInTab(page: Page, tab: number): Promise<void> {
  const urls = await page.$$eval('a[href], form[action], link[href], script[src], [hx-post], [hx-get]', (els) =>
    els.flatMap((el) => ['href', 'action', 'src', 'hx-post', 'hx-get'].map((a) => el.getAttribute(a) ?? '').filter((u) => u)),
  );
  const shared = /^\/(static\/|login|logout|\+\/)/;
  const rootRelative = urls.filter((u) => u.startsWith('/') && !shared.test(u));
  expect(rootRelative.length).toBeGreaterThan(3);
  for (const u of rootRelative) {
    expect(u, `link on tab ${tab}`).toMatch(new RegExp(`^/${tab}/`));
  }
}

test('two registers keep their own carts, totals and labels', async ({ page }) => {
  await signIn(page);
  const second = await openRegister(page);
  const [a, b] = [tabOf(page), tabOf(second)];
  expect(a).not.toBe(b);

  await addProduct(page, 'COF-004', 2); // 2 × Cappuccino $3.80
  await rename(page, 'Front counter');
  await addProduct(second, 'SAN-003'); // Chicken Club $8.20
  await addProduct(second, 'DRK-001', 3); // 3 × Still Water $1.50
  await rename(second, 'Drive-thru');

  await page.bringToFront();
  await page.reload();
  await expect(page.getByTestId('cart-total')).toHaveText('$7.60');
  await expect(page.getByTestId('register-name')).toHaveText('Front counter');
  await expect(page.locator('li.line')).toHaveCount(1);
  await second.bringToFront();
  await second.reload();
  await expect(second.getByTestId('cart-total')).toHaveText('$12.70');
  await expect(second.getByTestId('register-name')).toHaveText('Drive-thru');
  await expect(second.locator('li.line')).toHaveCount(2);

  expect(await cartJSON(page.request, a)).toEqual({
    tab: a, label: 'Front counter', items: [{ sku: 'COF-004', qty: 2, price_cents: 380 }], total_cents: 760,
  });
  expect(await cartJSON(page.request, b)).toEqual({
    tab: b, label: 'Drive-thru',
    items: [{ sku: 'SAN-003', qty: 1, price_cents: 820 }, { sku: 'DRK-001', qty: 3, price_cents: 150 }],
    total_cents: 1270,
  });

  await expectLinksInTab(page, a);
  await expectLinksInTab(second, b);
  await submit(second, second.locator('nav.nav a', { hasText: 'Sales' }));
  await expect(second).toHaveURL(new RegExp(`/${b}/sales$`));
  await expectLinksInTab(second, b);
});

test('sixteen quick adds split over two tabs all land', async ({ page }) => {
  await signIn(page);
  const second = await openRegister(page);
  const clicks = async (p: Page, sku: string) => {
    for (let i = 0; i < 8; i++) await addProduct(p, sku);
  };
  await Promise.all([clicks(page, 'BAK-001'), clicks(second, 'SNK-005')]);

  const [a, b] = [await cartJSON(page.request, tabOf(page)), await cartJSON(page.request, tabOf(second))];
  expect(a.items).toEqual([{ sku: 'BAK-001', qty: 8, price_cents: 290 }]);
  expect(a.total_cents).toBe(8 * 290);
  expect(b.items).toEqual([{ sku: 'SNK-005', qty: 8, price_cents: 210 }]);
  expect(b.total_cents).toBe(8 * 210);
});

test('a flash shows only in the tab that caused it', async ({ page }) => {
  await signIn(page);
  const second = await openRegister(page);
  await addProduct(page, 'TEA-003', 2);
  await expect(page.getByTestId('flashes')).toHaveText('Added 2 × Chai Latte');

  await second.bringToFront();
  await second.reload();
  await expect(second.locator('.main')).toBeVisible();
  await expect(second.getByTestId('flashes')).toHaveCount(0);

  await page.bringToFront();
  await page.reload();
  await expect(page.getByTestId('flashes')).toHaveCount(0);

  await addProduct(second, 'TEA-001');
  await expect(second.getByTestId('flashes')).toHaveText('Added 1 × Green Tea');
  await page.bringToFront();
  await page.reload();
  await expect(page.getByTestId('flashes')).toHaveCount(0);
});

test('"Open register" opens a new tab number and the registers page lists them all', async ({ page, context }) => {
  await signIn(page);
  const first = tabOf(page);
  const opened: Page[] = [];
  for (let i = 0; i < 2; i++) {
    await page.bringToFront();
    const [newPage] = await Promise.all([context.waitForEvent('page'), page.getByTestId('open-register').click()]);
    await newPage.waitForURL(/\/\d+\/$/);
    opened.push(newPage);
  }
  const numbers = [first, ...opened.map(tabOf)];
  expect(new Set(numbers).size).toBe(3);

  await addProduct(opened[1], 'SAN-001', 2); // 2 × Ham & Cheese $6.90
  await page.bringToFront();
  await page.goto(`${baseURL()}/${first}/registers`);
  const cards = page.locator('[data-testid="registers"] li');
  await expect(cards).toHaveCount(3);
  for (const n of numbers) {
    const card = page.locator(`[data-testid="registers"] li[data-tab="${n}"]`);
    await expect(card).toBeVisible();
    await expect(card.locator('a')).toHaveAttribute('href', `/${n}/`);
  }
  const busy = page.locator(`[data-testid="registers"] li[data-tab="${tabOf(opened[1])}"]`);
  await expect(busy).toContainText('2 items');
  await expect(busy).toContainText('$13.80');
  await expect(page.locator(`[data-testid="registers"] li[data-tab="${first}"]`)).toContainText('This tab');
});

test('a checkout in one tab shows on the Sales page of another', async ({ page }) => {
  await signIn(page);
  const second = await openRegister(page);
  await addProduct(page, 'COF-007', 2); // 2 × Mocha $4.30
  await addProduct(page, 'BAK-004'); // Blueberry Muffin $3.20
  await checkout(page);
  await expect(page).toHaveURL(new RegExp(`/${tabOf(page)}/sales/[0-9a-f-]{36}$`));
  const sale = receiptOf(page);
  await expect(page.getByTestId('receipt-total')).toHaveText('$11.80');
  await page.goto(`${baseURL()}/${tabOf(page)}/`);
  await expect(page.getByTestId('cart-empty')).toBeVisible();

  await second.bringToFront();
  await second.goto(`${baseURL()}/${tabOf(second)}/sales`);
  const row = second.locator(`tr[data-sale="${sale}"]`);
  await expect(row).toContainText('$11.80');
  await expect(row).toContainText(`#${tabOf(page)}`);
  await submit(second, row.locator('a'));
  await expect(second).toHaveURL(new RegExp(`/${tabOf(second)}/sales/${sale}$`));
  await expect(second.getByTestId('receipt')).toContainText('Mocha');
});
