// Plays the user in headless Chromium: opens the consent URL the CLI handed to its browser,
// signs in on oidc-provider's login page, then approves or denies on the consent page, and
// follows the redirect to the CLI's callback.
//
//   node drive.mjs approve|deny <authorize-url> <profile-dir>
//
// Prints one JSON line on stdout once the browser has the CLI's final page:
//   {"callbackUrl", "result" ("ok" | "fail"), "heading", "text"}
// `profile-dir` is an empty folder the caller owns (and removes); Playwright refuses
// --user-data-dir among the arguments.
//
// The caller holds this process's stdin open; when it ends (the test finished, or its
// process was killed) the browser is closed and this exits, so nothing outlives the test.
//
// Chromium must only reach loopback: background services are off, every other host name is
// unresolvable, IP literals go to a dead proxy, and any non-loopback request is aborted.
import { chromium } from 'playwright-core';

const [action, authorizeUrl, profileDir] = process.argv.slice(2);
if (!['approve', 'deny'].includes(action) || !authorizeUrl || !profileDir) {
  console.error('usage: drive.mjs approve|deny <authorize-url> <profile-dir>');
  process.exit(2);
}
const timeout = Number(process.env.DRIVE_TIMEOUT_MS || 30000);
const redirectUri = new URL(authorizeUrl).searchParams.get('redirect_uri');
if (!redirectUri) {
  console.error(`drive.mjs: no redirect_uri in ${authorizeUrl}`);
  process.exit(2);
}
const callback = new URL(redirectUri);
const atCallback = (href) => {
  const u = new URL(href);
  return u.origin === callback.origin && u.pathname === callback.pathname;
};
const loopback = new Set(['127.0.0.1', 'localhost', '[::1]']);

const context = await chromium.launchPersistentContext(profileDir, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  timeout,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
    '--proxy-server=http://127.0.0.1:9',
  ],
});

process.stdin.on('end', () => {
  context.close().finally(() => process.exit(1));
});
process.stdin.resume();

async function drive() {
  await context.route(
    (u) => (u.protocol === 'http:' || u.protocol === 'https:') && !loopback.has(u.hostname),
    (route) => route.abort(),
  );
  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(timeout);
  await page.goto(authorizeUrl, { waitUntil: 'domcontentloaded' });

  for (let step = 0; step < 8 && !atCallback(page.url()); step += 1) {
    const here = page.url();
    // Wait for the next page's HTML, not just its first byte: the fields are looked up at
    // once, and a page still loading would look like an unexpected one.
    const moved = () => page.waitForURL((u) => u.href !== here, { waitUntil: 'domcontentloaded' });
    if (await page.locator('input[name="login"]').count()) {
      await page.locator('input[name="login"]').fill('e2e-user');
      await page.locator('input[name="password"]').fill('any-password');
      await Promise.all([moved(), page.locator('button[type="submit"]').click()]);
    } else if (await page.locator('input[name="prompt"][value="consent"]').count()) {
      const button = action === 'approve'
        ? page.locator('form:has(input[name="prompt"][value="consent"]) button[type="submit"]')
        : page.getByRole('link', { name: /cancel/i });
      await Promise.all([moved(), button.click()]);
    } else {
      const text = (await page.locator('body').innerText().catch(() => '')).slice(0, 500);
      throw new Error(`unexpected page ${here}: ${text}`);
    }
  }
  if (!atCallback(page.url())) throw new Error(`never reached the callback; at ${page.url()}`);

  // The CLI answers the callback only once the tokens are saved (or the attempt failed).
  const result = page.locator('#integration-cli-result');
  await result.waitFor();
  return {
    callbackUrl: page.url(),
    result: await result.getAttribute('data-result'),
    heading: await result.locator('h1').innerText(),
    text: await page.locator('body').innerText(),
  };
}

try {
  process.stdout.write(`${JSON.stringify(await drive())}\n`);
} catch (e) {
  console.error(`drive.mjs: ${e.message}`);
  process.exitCode = 1;
} finally {
  await context.close();
  process.stdin.destroy();
}
