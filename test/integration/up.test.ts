// `hostfleet up` as a user runs it: the embedded site comes up with its demo customers, serves
// each customer's page through the edge, stops every process on Ctrl-C (SIGINT), and a second
// `up` finds the same site again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { BIN, freePortRange, startUp } from '../support/cli.js';

function processesMentioning(text: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(text) && !l.includes('ps -eo'));
}

const runUp = (dataDir: string, base: number) =>
  startUp(['--data-dir', dataDir, 'up', '--ports-from', String(base), '--machines', '7', '--no-load']);

test(
  'hostfleet up serves the demo customers, stops everything on Ctrl-C, and finds its site again',
  { timeout: 300_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hf-up-'));
    chmodSync(dir, 0o711);
    const running: { stop: () => Promise<number | null> }[] = [];
    try {
      const base = await freePortRange(7);
      const first = await runUp(dir, base);
      running.push(first);
      for (const [host, title] of [
        ['acme.test', 'Acme Shop'],
        ['globex.test', 'Globex News'],
        ['initech.test', 'Initech Support'],
      ]) {
        const r = await request(`http://127.0.0.1:${base + 1}/`, { headers: { host: host as string } });
        assert.equal(r.statusCode, 200, host);
        assert.ok((await r.body.text()).includes(title as string), host);
      }
      type Status = {
        groups: { id: string; servers: { id: string; state: string }[] }[];
        pool: { id: string }[];
        failed: { id: string }[];
        moves: { serverId: string }[];
      };
      const statusOf = (): Status =>
        JSON.parse(
          execFileSync(process.execPath, [BIN, '--data-dir', dir, 'status', '--json'], { encoding: 'utf8' }),
        ) as Status;
      const serverIds = (s: Status) =>
        [
          ...s.groups.flatMap((g) => g.servers.map((x) => x.id)),
          ...s.pool.map((x) => x.id),
          ...s.failed.map((x) => x.id),
          ...s.moves.map((m) => m.serverId),
        ].sort();
      const status = statusOf();
      assert.deepEqual(
        status.groups.map((g) => g.id),
        ['acme-web', 'globex-web', 'initech-web'],
      );
      // The demo gives each customer two servers; the decision loop may already have released an idle one.
      for (const g of status.groups)
        assert.ok(g.servers.length >= 1 && g.servers.length <= 2, `${g.id} has ${g.servers.length} servers`);
      const firstServers = [...new Set(serverIds(status))];
      assert.equal(firstServers.length, 7, 'every machine is registered once');
      assert.ok(processesMentioning(dir).length > 0, 'the site runs processes');
      assert.equal(await first.stop(), 0, first.output());
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(processesMentioning(dir), [], 'nothing the site started is left running');

      const second = await runUp(dir, base);
      running.push(second);
      const again = statusOf();
      assert.deepEqual(
        again.groups.map((g) => g.id),
        ['acme-web', 'globex-web', 'initech-web'],
        'the second up found the same groups',
      );
      assert.deepEqual([...new Set(serverIds(again))], firstServers, 'and the same servers, registered once');
      for (const g of again.groups) assert.ok(g.servers.length >= 1, `${g.id} still has a server`);
      const r = await request(`http://127.0.0.1:${base + 1}/`, { headers: { host: 'globex.test' } });
      assert.equal(r.statusCode, 200);
      await r.body.dump();
      assert.equal(await second.stop(), 0, second.output());
      await new Promise((r2) => setTimeout(r2, 300));
      assert.deepEqual(processesMentioning(dir), []);
    } finally {
      // A failed assertion must not leave a site running: stop whatever is still up.
      await Promise.allSettled(running.map((r) => r.stop()));
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
