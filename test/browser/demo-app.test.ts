// The demo web app in Debian's Chromium: two users (two browser contexts) ask for apples and complete
// the contact scenario against real handler processes, and a refused or expired token shows a clear
// message. Screenshots of the final states go to test-artifacts/browser/.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, TEST_CERTS_DIR, type TestBroker } from '../support/broker.ts';
import type { ChildHandle } from '../support/processes.ts';
import { startHandlerWithToken } from '../interop/handler-process.ts';
import { docExample } from '../support/doc-examples.ts';
import { CHROMIUM, toolsAvailable } from '../support/system-tools.ts';
import { handlerToken, userToken } from '../support/tokens.ts';
import { buildDemoApp } from '../../web/build.ts';
import { launchChromium } from './chromium.ts';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/browser/', import.meta.url));
const WAIT_MS = 15_000;

const available = toolsAvailable(CHROMIUM);

describe.skipIf(!available)('the demo web app in Chromium', () => {
  let broker: TestBroker;
  let browser: Browser | undefined;
  const handlers: ChildHandle[] = [];
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await buildDemoApp();
    // Clock tolerance 0: a token is refused (and its connection closed) exactly at `exp`.
    broker = await startTestBroker({ JWT_CLOCK_TOLERANCE: '0' });
    const started = await Promise.allSettled([
      startHandlerWithToken(
        broker,
        'handlers/examples/apples.ts',
        handlerToken('apples', ['get_apples'], ['got_apples']),
      ),
      startHandlerWithToken(
        broker,
        'handlers/examples/more-apples.ts',
        handlerToken('more-apples', ['more_apples'], ['got_more_apples']),
      ),
      startHandlerWithToken(
        broker,
        'handlers/examples/more-apples-store.ts',
        handlerToken('more-apples-store', ['more_apples', 'add_apple'], ['got_more_apples']),
      ),
      startHandlerWithToken(
        broker,
        'handlers/examples/contacts.ts',
        handlerToken(
          'contacts',
          ['request_contact', 'accept_contact', 'get_contact_list'],
          ['contact_requested', 'contact_approved', 'contact_list'],
        ),
      ),
    ]);
    for (const result of started) if (result.status === 'fulfilled') handlers.push(result.value);
    const failed = started.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    browser = await launchChromium(`${TEST_CERTS_DIR}/server.crt`);
  }, 120_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await Promise.all(handlers.map((handler) => handler.stop()));
    await broker?.close();
  }, 60_000);

  async function openPage(options: { bypassCSP?: boolean } = {}): Promise<Page> {
    const context = await browser!.newContext({ viewport: { width: 1000, height: 1100 }, ...options });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`https://localhost:${broker.ports.wss}/demo/`);
    return page;
  }

  async function signInAs(page: Page, user: string, ttlSec = 3600): Promise<void> {
    await page.getByTestId('user-id').fill(user);
    await page.getByTestId('ttl').fill(String(ttlSec));
    await page.getByTestId('sign-in-dev').click();
    await page.locator('body[data-ready="true"]').waitFor();
    await page.locator('[data-testid="status"][data-state="online"]').waitFor();
  }

  /** One image of several pages side by side, each under its caption: the final state at a glance. */
  async function saveSideBySide(path: string, shots: [string, Buffer][]): Promise<void> {
    const context = await browser!.newContext({ viewport: { width: 2040, height: 800 } });
    try {
      const page = await context.newPage();
      const figures = shots
        .map(
          ([caption, png]) =>
            `<figure style="margin:0 10px"><figcaption style="font:bold 20px sans-serif;margin:6px 0">${caption}</figcaption>` +
            `<img style="border:1px solid #999" src="data:image/png;base64,${png.toString('base64')}"></figure>`,
        )
        .join('');
      await page.setContent(`<body style="margin:0;display:flex;align-items:flex-start">${figures}</body>`);
      await page.screenshot({ path, fullPage: true });
    } finally {
      await context.close();
    }
  }

  const texts = (page: Page, testId: string) => page.getByTestId(testId).allTextContents();

  it('lets two users ask for apples and complete the contact scenario, with the events shown live', async () => {
    const alice = await openPage();
    const bob = await openPage();
    await signInAs(alice, 'alice');
    await signInAs(bob, 'bob');
    expect(await alice.getByTestId('status').textContent()).toContain('Connected as alice');

    // Apples: the reply lists three; "more apples" is answered by two handlers, so both sets arrive.
    await alice.getByTestId('get-apples').click();
    await alice.getByTestId('apple').nth(2).waitFor();
    expect(await texts(alice, 'apple')).toEqual([
      'Gala (red) from apples',
      'Granny Smith (green) from apples',
      'Golden Delicious (yellow) from apples',
    ]);
    await alice.locator('[data-testid="event"][data-event="got_apples"]').waitFor();
    await alice.getByTestId('more-apples').click();
    await alice.getByTestId('apple').nth(8).waitFor();
    const apples = await texts(alice, 'apple');
    expect(apples.filter((apple) => apple.endsWith('from more-apples'))).toHaveLength(3);
    expect(apples.filter((apple) => apple.endsWith('from more-apples-store'))).toHaveLength(3);

    // Alice asks Bob; Bob sees the request arrive live and accepts; Alice sees the approval live.
    await alice.getByTestId('contact-id').fill('bob');
    await alice.getByTestId('request-contact').click();
    const request = bob.locator('[data-testid="contact-request"][data-from="alice"]');
    await request.waitFor();
    expect(await request.textContent()).toContain('alice wants to be your contact');
    await bob.locator('[data-testid="event"][data-event="contact_requested"]').waitFor();
    await request.getByTestId('accept-contact').click();
    await bob.locator('[data-testid="contact-request"][data-accepted="true"]').waitFor();
    await alice.locator('[data-testid="event"][data-event="contact_approved"]').waitFor();
    expect(await texts(alice, 'contact-approved')).toEqual(['bob accepted your request']);

    // Both contact lists now name the other.
    await alice.getByTestId('get-contact-list').click();
    await bob.getByTestId('get-contact-list').click();
    await alice.getByTestId('contact').first().waitFor();
    await bob.getByTestId('contact').first().waitFor();
    expect(await texts(alice, 'contact')).toEqual(['bob']);
    expect(await texts(bob, 'contact')).toEqual(['alice']);
    expect(await alice.getByTestId('problem').isHidden()).toBe(true);
    expect(await bob.getByTestId('problem').isHidden()).toBe(true);

    expect(await texts(alice, 'contact-sent')).toEqual(['You asked bob']);
    await saveSideBySide(`${ARTIFACTS}contact-scenario.png`, [
      ['alice', await alice.screenshot({ fullPage: true })],
      ['bob', await bob.screenshot({ fullPage: true })],
    ]);
    expect(pageErrors).toEqual([]);
  }, 90_000);

  it('says clearly that the broker refused a bad token', async () => {
    const page = await openPage();
    const forged = userToken('mallory').slice(0, -4) + 'AAAA';
    await page.getByTestId('token').fill(forged);
    await page.getByTestId('sign-in-token').click();
    const problem = page.getByTestId('problem');
    await problem.waitFor();
    expect(await problem.textContent()).toContain('The broker refused your token (not authorized)');
    expect(await page.getByTestId('app').isHidden()).toBe(true);
    await page.screenshot({ path: `${ARTIFACTS}token-refused.png` });

    // A token that has already expired is named as such, without asking the broker.
    await page.getByTestId('token').fill(userToken('mallory', {}, { expiresIn: -60 }));
    await page.getByTestId('sign-in-token').click();
    await page.getByTestId('problem').getByText('Your token expired').waitFor();
  }, 60_000);

  it('says clearly that the token expired when the broker closes the session', async () => {
    const page = await openPage();
    await signInAs(page, 'carol', 4);
    const problem = page.getByTestId('problem');
    await problem.waitFor({ timeout: 20_000 });
    expect(await problem.textContent()).toContain('Your token expired');
    expect(await page.getByTestId('sign-in').isVisible()).toBe(true);
    await broker.waitForLog((line) => line.action === 'expire' && String(line.clientId).startsWith('carol/'));
    await page.screenshot({ path: `${ARTIFACTS}token-expired.png` });
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('runs the browser example of docs/connecting.md as written', async () => {
    // The example is an inline module; the demo page's CSP forbids inline scripts, so this one page bypasses it.
    const page = await openPage({ bypassCSP: true });
    const html = docExample('connecting.md', 'browser');
    const module = html.replace(/^<script type="module">\n/, '').replace(/\n<\/script>$/, '');
    const logged = new Map<string, unknown>();
    const replied = new Promise<void>((resolve) => {
      page.on('console', (message) => {
        const [label, value] = message.args();
        void Promise.all([label?.jsonValue(), value?.jsonValue()]).then(([text, data]) => {
          logged.set(String(text), data);
          if (logged.has('get_apples reply') && logged.has('got_apples event')) resolve();
        });
      });
    });
    await page.addScriptTag({ type: 'module', content: module });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the example logged only: ${[...logged.keys()].join(', ')}`)),
        WAIT_MS,
      );
      void replied.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    expect(logged.get('get_apples reply')).toMatchObject({ source: 'apples', apples: expect.any(Array) });
    expect(logged.get('got_apples event')).toMatchObject({ source: 'apples' });
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
