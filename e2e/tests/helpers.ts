import { expect, type APIRequestContext, type BrowserContext, type Page } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';

export const PIN = process.env.POS_E2E_PIN ?? '2468';

/** The demo's base URL, from the address the webServer logged. */
export function baseURL(): string {
  const addr = process.env.POS_DEMO_ADDR;
  if (!addr) throw new Error('POS_DEMO_ADDR is not set: did the webServer start?');
  return `http://${addr}`;
}

/** The tab number in a page's URL. */
export function tabOf(page: Page): number {
  const m = /^\/(\d+)\//.exec(new URL(page.url()).pathname);
  if (!m) throw new Error(`not a tab URL: ${page.url()}`);
  return Number(m[1]);
}

/** Signs in from whatever page `url` shows (a register page shows the form). */
export async function signIn(page: Page, name = 'Ann', url = `${baseURL()}/0/`): Promise<void> {
  await page.bringToFront();
  await page.goto(url);
  await page.locator('#name').fill(name);
  await page.locator('#pin').fill(PIN);
  await Promise.all([page.waitForNavigation(), page.locator('form[action="/login"] button[type="submit"]').click()]);
  await expect(page.getByTestId('cashier')).toContainText(name);
}

/** Whether htmx runs on the page (false with JavaScript off). */
export async function usesHtmx(page: Page): Promise<boolean> {
  return page.evaluate(() => 'htmx' in window);
}

/**
 * Whether a click on el goes through htmx: a form or link marked
 * hx-post, or boosted (hx-boost="true" on the closest element that sets
 * it), when htmx runs at all.
 */
async function goesThroughHtmx(el: ReturnType<Page['locator']>): Promise<boolean> {
  return el.evaluate((node) => {
    if (!('htmx' in window)) return false;
    const target = node.closest('form, a');
    if (!target) return false;
    if (target.hasAttribute('hx-post')) return true;
    if (target instanceof HTMLAnchorElement && target.target && target.target !== '_self') return false;
    const boost = target.closest('[hx-boost]');
    return boost?.getAttribute('hx-boost') === 'true';
  });
}

/** Waits until htmx has no request in flight and nothing swapping. */
export async function htmxSettled(page: Page): Promise<void> {
  await page.waitForFunction(() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling'));
}

/**
 * Clicks a form button or link and waits for what it leads to: the page
 * the redirect leads to, or, when htmx handles the click (in place or
 * boosted), its answer swapped in.
 */
export async function submit(page: Page, button: ReturnType<Page['locator']>): Promise<void> {
  await page.bringToFront();
  if (await goesThroughHtmx(button)) {
    await Promise.all([
      page.waitForResponse((r) => r.request().headers()['hx-request'] === 'true'),
      button.click(),
    ]);
    await htmxSettled(page);
    return;
  }
  await Promise.all([page.waitForNavigation(), button.click()]);
}

/** Adds qty of a product from the product grid. */
export async function addProduct(page: Page, sku: string, qty = 1): Promise<void> {
  const card = page.locator(`form.product[data-sku="${sku}"]`);
  await page.bringToFront();
  if (qty !== 1) await card.locator('input.qty').fill(String(qty));
  await submit(page, card.locator('button'));
}

/** Sets the quantity of a cart line (0 removes it). */
export async function setQuantity(page: Page, sku: string, qty: number): Promise<void> {
  const line = page.locator(`li.line[data-sku="${sku}"]`);
  await page.bringToFront();
  if (qty === 0) {
    await submit(page, line.locator('.remove-form button'));
    return;
  }
  await line.locator('.qty-form input.qty').fill(String(qty));
  await submit(page, line.locator('.qty-form button'));
}

export async function rename(page: Page, label: string): Promise<void> {
  await page.bringToFront();
  await page.locator('details.rename summary').click();
  await page.locator('details.rename input[name="label"]').fill(label);
  await submit(page, page.locator('details.rename button'));
}

export async function checkout(page: Page): Promise<void> {
  await submit(page, page.locator('.button-checkout'));
}

/** Signs out through the confirmation page the header's button leads to. */
export async function signOut(page: Page): Promise<void> {
  await submit(page, page.getByTestId('sign-out'));
  await expect(page.getByTestId('signout-confirm')).toBeVisible();
  await submit(page, page.getByTestId('confirm-sign-out'));
}

export type SaleJSON = {
  id: string;
  tab: number;
  total_cents: number;
  items: { sku: string; qty: number; price_cents: number }[];
  register: string;
  cashier: string;
  at: string;
};

/** The shop's sales rung up by one cashier (the suite runs in parallel). */
export async function salesBy(request: APIRequestContext, cashier: string, base = baseURL()): Promise<SaleJSON[]> {
  const res = await request.get(`${base}/sales.json`);
  expect(res.status(), 'GET /sales.json').toBe(200);
  return ((await res.json()) as SaleJSON[]).filter((s) => s.cashier === cashier);
}

/** The receipt ID in a receipt page's URL. */
export function receiptOf(page: Page): string {
  const m = /\/sales\/([0-9a-f-]{36})$/.exec(new URL(page.url()).pathname);
  if (!m) throw new Error(`not a receipt URL: ${page.url()}`);
  return m[1];
}

/** A name no other test uses, for a cashier whose sales a test counts. */
export function uniqueName(prefix: string): string {
  return `${prefix} ${Math.random().toString(36).slice(2, 8)}`;
}

export type CartJSON = {
  tab: number;
  label: string;
  items: { sku: string; qty: number; price_cents: number }[];
  total_cents: number;
};

/** Reads a tab's cart with the context's cookies. */
export async function cartJSON(request: APIRequestContext, tab: number, base = baseURL()): Promise<CartJSON> {
  const res = await request.get(`${base}/${tab}/cart.json`, { maxRedirects: 0 });
  expect(res.status(), `GET /${tab}/cart.json`).toBe(200);
  return (await res.json()) as CartJSON;
}

export async function sessionCookie(context: BrowserContext): Promise<string | undefined> {
  return (await context.cookies()).find((c) => c.name === 'tabkit')?.value;
}

/** A demo process of a test's own, for restarts. */
export type Demo = { base: string; process: ChildProcess; stop: () => Promise<number | null> };

/** Starts the built demo on a free port with the given database. */
export function startDemo(db: string, ...args: string[]): Promise<Demo> {
  const bin = process.env.POS_E2E_BIN;
  if (!bin) throw new Error('POS_E2E_BIN is not set');
  const child = spawn(bin, ['-addr', '127.0.0.1:0', '-db', db, '-pin', PIN, ...args], {
    env: process.env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let log = '';
    let started = false;
    const timer = setTimeout(() => reject(new Error(`demo did not start:\n${log}`)), 15_000);
    // The pipe is read to its end, so the demo never blocks on logging.
    child.stderr!.on('data', (chunk: Buffer) => {
      if (started) return;
      log += chunk.toString();
      const m = /msg=listening addr=(\S+)/.exec(log);
      if (m) {
        started = true;
        clearTimeout(timer);
        resolve({
          base: `http://${m[1]}`,
          process: child,
          stop: async () => {
            child.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`demo exited with ${code}:\n${log}`));
    });
  });
}
