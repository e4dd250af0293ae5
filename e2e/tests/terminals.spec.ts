import { expect, test, type Browser, type Page } from '@playwright/test';
import { baseURL, PIN, signIn, submit, tabOf, uniqueName } from './helpers';

// Every test signs its cashiers in under a name of its own: the name is
// the principal, and "Sign out everywhere else" would otherwise end the
// sessions of tests running alongside.

/** A terminal: a browser of its own (a context), signed in as name. */
async function terminal(browser: Browser, name: string, javaScriptEnabled: boolean): Promise<Page> {
  const context = await browser.newContext({ javaScriptEnabled });
  const page = await context.newPage();
  await signIn(page, name);
  return page;
}

/** Opens another register of page's terminal, in a new browser tab. */
async function openRegister(page: Page): Promise<Page> {
  const reg = await page.context().newPage();
  await reg.bringToFront();
  await reg.goto(`${baseURL()}/+/`);
  await expect(reg).toHaveURL(/\/\d+\/$/);
  return reg;
}

/** Signs out the other terminals of page's cashier from the registers page. */
async function signOutOthers(page: Page, others: number): Promise<void> {
  await page.bringToFront();
  await page.goto(`${baseURL()}/${tabOf(page)}/registers`);
  await expect(page.getByTestId('terminal-list').locator('li')).toHaveCount(others);
  await submit(page, page.getByTestId('sign-out-others'));
  const what = others === 1 ? 'Signed out 1 other terminal.' : `Signed out ${others} other terminals.`;
  await expect(page.getByTestId('flashes').filter({ hasText: what })).toBeVisible();
  await expect(page.getByTestId('no-terminals')).toBeVisible();
}

type Click = { what: 'link' | 'add'; where: 'first register' | 'another register' };

const cases: { javaScriptEnabled: boolean; click: Click }[] = [
  { javaScriptEnabled: true, click: { what: 'link', where: 'first register' } },
  { javaScriptEnabled: true, click: { what: 'add', where: 'first register' } },
  { javaScriptEnabled: true, click: { what: 'link', where: 'another register' } },
  { javaScriptEnabled: true, click: { what: 'add', where: 'another register' } },
  { javaScriptEnabled: false, click: { what: 'link', where: 'another register' } },
  { javaScriptEnabled: false, click: { what: 'add', where: 'first register' } },
];

for (const { javaScriptEnabled, click } of cases) {
  test(`${javaScriptEnabled ? 'with' : 'without'} JavaScript: a terminal signed out from another lands on sign-in at its next click (${click.what}, ${click.where})`, async ({ browser }) => {
    const name = uniqueName('Till');
    const front = await terminal(browser, name, javaScriptEnabled);
    const back = await terminal(browser, name, javaScriptEnabled);
    const backPage = click.where === 'another register' ? await openRegister(back) : back;
    const registers = click.where === 'another register' ? '2 registers' : '1 register';

    // The front terminal sees the back one, with its registers, and ends it.
    await front.bringToFront();
    await front.goto(`${baseURL()}/0/registers`);
    await expect(front.getByTestId('terminal-list').locator('li')).toContainText(registers);
    await expect(front.getByTestId('terminal-list')).toContainText('Last seen');
    await signOutOthers(front, 1);

    // The back terminal still shows its page; its next click leads to the
    // sign-in page, which says who signed it out.
    await backPage.bringToFront();
    if (click.what === 'link') {
      await backPage.locator('nav.nav a', { hasText: 'Sales' }).click();
    } else {
      await backPage.locator('form.product[data-sku="COF-002"] button').click();
    }
    await expect(backPage.locator('form[action="/login"]')).toBeVisible();
    const notice = backPage.getByTestId('signin-notice');
    await expect(notice).toContainText(new RegExp(`^You were signed out from another terminal by ${name} at \\d\\d:\\d\\d\\.`));
    if (click.what === 'add') await expect(notice).toContainText('Nothing was changed.');
    await expect(backPage.getByTestId('cashier')).toHaveCount(0);
    expect((await back.context().cookies()).find((c) => c.name === 'tabkit')).toBeUndefined();

    // Signing in again works, and the front terminal was never signed out.
    await backPage.locator('#name').fill(name);
    await backPage.locator('#pin').fill(PIN);
    await Promise.all([backPage.waitForNavigation(), backPage.locator('form[action="/login"] button').click()]);
    await expect(backPage.getByTestId('cashier')).toContainText(name);
    await front.bringToFront();
    await front.reload();
    await expect(front.getByTestId('cashier')).toContainText(name);
    await Promise.all([front.context().close(), back.context().close()]);
  });
}

test('the session cookie ends with the browser unless the till is remembered', async ({ browser }) => {
  const shared = await browser.newContext();
  const page = await shared.newPage();
  await signIn(page, uniqueName('Shared'));
  const session = (await shared.cookies()).find((c) => c.name === 'tabkit');
  expect(session, 'session cookie').toBeDefined();
  expect(session!.expires, 'a browser-session cookie has no Expires').toBe(-1);
  expect(session!.httpOnly).toBe(true);

  const own = await browser.newContext();
  const till = await own.newPage();
  await till.goto(`${baseURL()}/0/`);
  await till.locator('#name').fill(uniqueName('Own'));
  await till.locator('#pin').fill(PIN);
  await till.getByTestId('remember').check();
  await Promise.all([till.waitForNavigation(), till.locator('form[action="/login"] button[type="submit"]').click()]);
  await expect(till.getByTestId('cashier')).toBeVisible();
  const remembered = (await own.cookies()).find((c) => c.name === 'tabkit');
  expect(remembered!.expires * 1000, 'a remembered till keeps its cookie for days').toBeGreaterThan(Date.now() + 24 * 3600 * 1000);
  await Promise.all([shared.close(), own.close()]);
});

for (const width of [390, 1280]) {
  test(`the registers page with other terminals fits ${width} px`, async ({ browser }, testInfo) => {
    const name = uniqueName('Maya');
    const context = await browser.newContext({ viewport: { width, height: 900 } });
    const page = await context.newPage();
    await signIn(page, name);
    const others = [await terminal(browser, name, true), await terminal(browser, name, true)];
    await openRegister(others[0]);
    await page.bringToFront();
    await page.goto(`${baseURL()}/0/registers`);
    await expect(page.getByTestId('terminal-list').locator('li')).toHaveCount(2);
    const button = page.getByTestId('sign-out-others');
    await expect(button).toBeInViewport();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, 'horizontal scrolling').toBeLessThanOrEqual(0);
    for (const card of await page.getByTestId('terminal-list').locator('li').all()) {
      const box = (await card.boundingBox())!;
      expect(box.x + box.width).toBeLessThanOrEqual(width);
    }
    await page.screenshot({ path: testInfo.outputPath(`registers-${width}.png`), fullPage: true });
    await Promise.all([context.close(), ...others.map((o) => o.context().close())]);
  });
}
