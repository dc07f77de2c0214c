// The console's Sites view in a real browser (Debian's chromium driven by playwright-core): two
// embedded sites eight hours apart, one machine each, joined by the global coordinator on a
// loopback hub and copying their accounts to each other with real rsync daemons. An operator of
// site a opens Sites and sees both sites with their local times, and the lag of b's copy of a's
// customer once the first copy is made. The page is photographed into the console's scratch
// folder (HOSTFLEET_CONSOLE_SHOTS, else <tmp>/hostfleet-console-shots), never into the tree.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startTestSite } from '../support/site.js';
import type { TestSite } from '../support/site.js';
import { globalSection, replicationFor, startGlobalHarness, until } from '../support/sites.js';
import type { GlobalHarness, SitePlan } from '../support/sites.js';
import { ensureWebBuilt } from '../../web/build.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = process.env.HOSTFLEET_CONSOLE_SHOTS ?? join(tmpdir(), 'hostfleet-console-shots');
const PASSWORD = 'operator-pass-1234';
const PLANS: readonly SitePlan[] = [
  { id: 'a', timeZone: 'UTC', firstUid: 200_001, machines: 1, customers: [] },
  { id: 'b', timeZone: 'Etc/GMT-8', firstUid: 300_001, machines: 1, customers: [] }, // UTC+8
];

/** clockTexts are the ways a site `offsetMinutes` east of UTC may show its clock around now ("Tue 14:05"), either side of a minute's turn. */
function clockTexts(offsetMinutes: number): string[] {
  const t = Date.now() + offsetMinutes * 60_000;
  return [t - 60_000, t, t + 60_000].map((x) => {
    const d = new Date(x);
    const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()];
    return `${day} ${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
  });
}

describe(
  "the console's Sites view",
  { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing: apt-get install -y chromium`, timeout: 240_000 },
  () => {
    let h: GlobalHarness;
    const sites: TestSite[] = [];
    before(async () => {
      await ensureWebBuilt();
      h = await startGlobalHarness();
      const rep = await replicationFor(PLANS);
      for (const p of PLANS)
        sites.push(
          await startTestSite({
            machines: p.machines,
            site: { id: p.id, timeZone: p.timeZone, firstUid: p.firstUid },
            config: { global: globalSection(h, p.id, rep, 1000) },
          }),
        );
      const [a, b] = sites as [TestSite, TestSite];
      await a.customer('alpha', ['alpha.test']);
      await a.registerAll();
      await b.registerAll();
      await a.client.call('POST', '/v1/users', { name: 'ops', password: PASSWORD, role: 'operator' });
    });

    after(async () => {
      for (const s of sites) await s.stop().catch(() => undefined);
      await h?.close();
    });

    test('an operator sees both sites with their local times and the replica lag of a customer', async () => {
      const a = sites[0] as TestSite;
      const dir = mkdtempSync(join(tmpdir(), 'hf-chromium-'));
      const ctx = await chromium.launchPersistentContext(dir, {
        executablePath: CHROMIUM,
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
        viewport: { width: 1440, height: 900 },
      });
      try {
        const page = ctx.pages()[0] ?? (await ctx.newPage());
        page.setDefaultTimeout(30_000);
        const errors: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error') errors.push(`console: ${m.text()}`);
        });
        page.on('pageerror', (e) => errors.push(`exception: ${e.message}`));
        await page.goto(a.managerUrl + '/');
        await page.getByLabel('Name').fill('ops');
        await page.getByLabel('Password').fill(PASSWORD);
        await page.getByRole('button', { name: 'Log in' }).click();
        await page.getByTestId('who').waitFor();

        await page.getByTestId('tab-sites').click();
        await page.getByTestId('site-a').waitFor();
        await page.getByTestId('site-b').waitFor();
        for (const p of PLANS) {
          const offset = p.id === 'a' ? 0 : 480;
          const shown = (await page.getByTestId(`clock-${p.id}`).textContent()) ?? '';
          assert.ok(
            clockTexts(offset).includes(shown),
            `site ${p.id} shows ${shown}, not about ${clockTexts(offset)[1]}`,
          );
          assert.match((await page.getByTestId(`site-${p.id}`).textContent()) ?? '', /reporting/);
        }
        assert.match((await page.getByTestId('site-b').textContent()) ?? '', /UTC\+08:00/);
        await page.getByTestId('map-a').waitFor();
        await page.getByTestId('map-b').waitFor();

        // The first copy of alpha's data reaches b within a replication round or two.
        const lag = page.getByTestId('lag-a-alpha-b');
        await until('a first copy of alpha at b, with its lag', 60_000, async () =>
          /^b · \d+ s$/.test((await lag.textContent()) ?? ''),
        );
        assert.match((await lag.getAttribute('class')) ?? '', /lag-ok/);
        assert.match(
          (await page.getByTestId('own-part').textContent()) ?? '',
          /No group of another site is served here/,
        );

        await page.waitForTimeout(300);
        mkdirSync(SHOTS, { recursive: true });
        await page.screenshot({ path: join(SHOTS, 'console-operator-sites.png'), fullPage: true });
        assert.deepEqual(errors, [], 'the Sites view loads without errors in the browser console');
      } finally {
        await ctx.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);
