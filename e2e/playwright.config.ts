import { defineConfig } from '@playwright/test';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// The runner evaluates this file in its main process and again in every
// worker. The main process picks the temporary directory, the signing
// keys and the PIN and leaves them in the environment, which the demo
// server and the workers inherit, so everyone agrees.
if (!process.env.POS_E2E_DIR) {
  process.env.POS_E2E_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'tabkit-e2e-'));
}
if (!process.env.TABKIT_SIGNING_KEYS) {
  // Two keys, newest first, so cookies are signed as in production.
  process.env.TABKIT_SIGNING_KEYS = [32, 40].map((n) => crypto.randomBytes(n).toString('hex')).join(',');
}
if (!process.env.POS_E2E_PIN) {
  process.env.POS_E2E_PIN = '2468';
}
const dir = process.env.POS_E2E_DIR;
const bin = path.join(dir, 'pos-demo');
process.env.POS_E2E_BIN = bin;

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: 2,
  retries: 0,
  forbidOnly: true,
  reporter: [['list']],
  globalTeardown: './teardown.ts',
  use: {
    browserName: 'chromium',
    viewport: { width: 1280, height: 800 },
    launchOptions: {
      // Debian's Chromium; the Playwright browser download is not used.
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
    trace: 'off',
    screenshot: 'only-on-failure',
  },
  webServer: {
    // Built fresh from the checkout; port 0 lets the kernel pick a free
    // port, which the demo logs and the wait pattern exports to the tests
    // as POS_DEMO_ADDR.
    command: `go build -o '${bin}' ./cmd/pos-demo && exec '${bin}' -addr 127.0.0.1:0 -db '${path.join(dir, 'pos.db')}' -pin '${process.env.POS_E2E_PIN}'`,
    cwd: '..',
    wait: { stderr: /msg=listening addr=(?<pos_demo_addr>\S+)/ },
    reuseExistingServer: false,
    timeout: 180_000,
    stdout: 'ignore',
    stderr: 'ignore',
    gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
  },
});
