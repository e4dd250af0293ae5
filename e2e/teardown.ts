import * as fs from 'node:fs';

// Removes the temporary directory playwright.config.ts made (binary and
// databases).
export default async function teardown(): Promise<void> {
  const dir = process.env.POS_E2E_DIR;
  if (dir && dir.includes('tabkit-e2e-')) {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
