// The manager's resource, group, move and placement routes through app.inject(), on a manager
// running in this process on the fake drivers: who may do what (operator, reseller, customer),
// what each caller may see, input errors that name their fields (unknown keys included), and a
// configuration placed on fake hardware nodes that is re-placed when its node dies.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MoveRecord } from '../../../../../src/core/model/records.js';
import { NODE_FAILURES_TO_DOWN } from '../../../../../src/services/manager/components/placement/index.js';
import { OPERATOR_TOKEN, startFakeSite } from '../../../../support/fake-site.js';
import type { FakeSite, Reply } from '../../../../support/fake-site.js';

type Method = 'GET' | 'POST';
interface MapRow {
  component: string;
  tier: string;
  node: string;
  state: string;
  address: string | null;
  moves: number;
}
interface ErrorBody {
  error: { code: string; message: string; fields?: Array<{ field: string; problem: string }> };
}

describe('manager routes, in process', () => {
  let site: FakeSite;
  const tokens: Record<'operator' | 'reseller' | 'alpha' | 'bravo', string> = {
    operator: OPERATOR_TOKEN,
    reseller: '',
    alpha: '',
    bravo: '',
  };

  async function token(role: 'reseller' | 'customer', accountId: string): Promise<string> {
    const r = await site.call<{ token: string }>('POST', '/v1/tokens', {
      role,
      accountId,
      name: `${accountId} ${role}`,
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.token;
  }

  /** as sends a request with the token of a named caller. */
  function as<T = Record<string, unknown>>(
    who: keyof typeof tokens,
    method: Method,
    url: string,
    body?: unknown,
  ): Promise<Reply<T>> {
    return site.call<T>(method, url, body, tokens[who]);
  }

  /** refused asserts an error answer with its status and code, and returns its body. */
  function refused(r: Reply, status: number, code: string): ErrorBody['error'] {
    assert.equal(r.status, status, JSON.stringify(r.body));
    const e = (r.body as unknown as ErrorBody).error;
    assert.equal(e.code, code, JSON.stringify(r.body));
    return e;
  }

  before(async () => {
    site = await startFakeSite({ machines: 3 });
    await site.customer('alpha', ['alpha.test']);
    await site.customer('bravo', ['bravo.test']);
    await site.call('POST', '/v1/accounts', { id: 'resell', displayName: 'A reseller' });
    tokens.reseller = await token('reseller', 'resell');
    tokens.alpha = await token('customer', 'alpha');
    tokens.bravo = await token('customer', 'bravo');
    assert.deepEqual(await site.registerAll(), ['srv-01', 'srv-02', 'srv-03']);
    assert.equal((await site.move('srv-01', 'alpha-web')).status, 'done');
    assert.equal((await site.move('srv-02', 'bravo-web')).status, 'done');
  });
  after(async () => {
    await site?.stop();
  });

  test('every /v1 route needs a known token (E_UNAUTHENTICATED)', async () => {
    const routes: Array<[Method, string]> = [
      ['GET', '/v1/status'],
      ['GET', '/v1/groups'],
      ['GET', '/v1/servers'],
      ['GET', '/v1/moves'],
      ['POST', '/v1/moves'],
      ['POST', '/v1/groups'],
      ['GET', '/v1/accounts'],
    ];
    for (const [method, url] of routes) {
      refused(await site.call(method, url, method === 'POST' ? {} : undefined, null), 401, 'E_UNAUTHENTICATED');
      refused(
        await site.call(method, url, method === 'POST' ? {} : undefined, `hf_${'x'.repeat(43)}`),
        401,
        'E_UNAUTHENTICATED',
      );
    }
    assert.equal((await site.call('GET', '/healthz', undefined, null)).status, 200, '/healthz is public');
  });

  test('what each role may change', async () => {
    const rows: Array<{
      name: string;
      who: keyof typeof tokens;
      method: Method;
      url: string;
      body?: unknown;
      want: number;
    }> = [
      {
        name: 'operator creates an account',
        who: 'operator',
        method: 'POST',
        url: '/v1/accounts',
        body: { id: 'opcust', displayName: 'Op customer' },
        want: 201,
      },
      {
        name: 'reseller creates a customer of its own',
        who: 'reseller',
        method: 'POST',
        url: '/v1/accounts',
        body: { id: 'rcust', displayName: 'Reseller customer' },
        want: 201,
      },
      {
        name: 'customer creates no account',
        who: 'alpha',
        method: 'POST',
        url: '/v1/accounts',
        body: { id: 'sneaky', displayName: 'Sneaky' },
        want: 403,
      },
      {
        name: 'operator creates a group',
        who: 'operator',
        method: 'POST',
        url: '/v1/groups',
        body: { id: 'opcust-web', accountId: 'opcust', role: 'web', domains: ['opcust.test'] },
        want: 201,
      },
      {
        name: 'reseller creates no group',
        who: 'reseller',
        method: 'POST',
        url: '/v1/groups',
        body: { id: 'rcust-web', accountId: 'rcust', role: 'web' },
        want: 403,
      },
      {
        name: 'customer creates no group',
        who: 'alpha',
        method: 'POST',
        url: '/v1/groups',
        body: { id: 'alpha-app', accountId: 'alpha', role: 'app' },
        want: 403,
      },
      {
        name: 'customer moves no server',
        who: 'alpha',
        method: 'POST',
        url: '/v1/moves',
        body: { server: 'srv-03', to: 'alpha-web' },
        want: 403,
      },
      {
        name: 'reseller moves no server',
        who: 'reseller',
        method: 'POST',
        url: '/v1/moves',
        body: { server: 'srv-03', to: 'alpha-web' },
        want: 403,
      },
      { name: 'customer lists no moves', who: 'alpha', method: 'GET', url: '/v1/moves', want: 403 },
      {
        name: 'customer registers no server',
        who: 'alpha',
        method: 'POST',
        url: '/v1/servers',
        body: { id: 'srv-09', bmcUrl: site.bmc.url, systemId: 'm3', address: '10.9.9.9:80' },
        want: 403,
      },
      { name: 'customer reads no pool', who: 'bravo', method: 'GET', url: '/v1/pool', want: 403 },
      {
        name: 'customer issues no token',
        who: 'alpha',
        method: 'POST',
        url: '/v1/tokens',
        body: { role: 'operator', name: 'me, the operator' },
        want: 403,
      },
      { name: 'operator lists moves', who: 'operator', method: 'GET', url: '/v1/moves', want: 200 },
    ];
    for (const row of rows) {
      const r = await as(row.who, row.method, row.url, row.body);
      assert.equal(r.status, row.want, `${row.name}: ${JSON.stringify(r.body)}`);
      if (row.want === 403) refused(r, 403, 'E_FORBIDDEN');
    }
    const rcust = await site.call<{ account: { resellerId: string | null } }>('GET', '/v1/accounts/rcust');
    assert.equal(rcust.body.account.resellerId, 'resell', 'a reseller’s new account is its own customer');
  });

  test('a customer sees its own account, groups and servers, and another customer’s as if they did not exist', async () => {
    assert.deepEqual(
      (await as<{ groups: Array<{ id: string }> }>('alpha', 'GET', '/v1/groups')).body.groups.map((g) => g.id),
      ['alpha-web'],
    );
    assert.deepEqual(
      (await as<{ accounts: Array<{ id: string }> }>('alpha', 'GET', '/v1/accounts')).body.accounts.map((a) => a.id),
      ['alpha'],
    );
    assert.deepEqual(
      (await as<{ servers: Array<{ id: string }> }>('alpha', 'GET', '/v1/servers')).body.servers.map((s) => s.id),
      ['srv-01'],
    );
    const own = await as<{ group: { id: string }; servers: Array<{ id: string; bmcUrl?: string }> }>(
      'alpha',
      'GET',
      '/v1/groups/alpha-web',
    );
    assert.equal(own.status, 200);
    assert.deepEqual(
      own.body.servers.map((s) => [s.id, s.bmcUrl]),
      [['srv-01', undefined]],
      'customers do not see the management plane',
    );
    // Another customer's resources answer exactly like ones that do not exist.
    for (const [url, missing] of [
      ['/v1/groups/bravo-web', '/v1/groups/nobody-web'],
      ['/v1/accounts/bravo', '/v1/accounts/nobody'],
      ['/v1/servers/srv-02', '/v1/servers/srv-99'],
    ] as const) {
      const theirs = refused(await as('alpha', 'GET', url), 404, 'E_NOT_FOUND');
      const none = refused(await as('alpha', 'GET', missing), 404, 'E_NOT_FOUND');
      assert.equal(
        theirs.message.replace(url.split('/').at(-1)!, 'X'),
        none.message.replace(missing.split('/').at(-1)!, 'X'),
        url,
      );
    }
    const status = await as<{ groups: Array<{ id: string }>; pool: unknown[]; failed: unknown[] }>(
      'alpha',
      'GET',
      '/v1/status',
    );
    assert.deepEqual(
      status.body.groups.map((g) => g.id),
      ['alpha-web'],
    );
    assert.deepEqual([status.body.pool, status.body.failed], [[], []], 'the pool is the operator’s');
  });

  test('a reseller sees itself and its customers, not other accounts', async () => {
    const accounts = (await as<{ accounts: Array<{ id: string }> }>('reseller', 'GET', '/v1/accounts')).body.accounts
      .map((a) => a.id)
      .sort();
    assert.deepEqual(accounts, ['rcust', 'resell']);
    refused(await as('reseller', 'GET', '/v1/groups/alpha-web'), 404, 'E_NOT_FOUND');
    assert.deepEqual((await as<{ groups: unknown[] }>('reseller', 'GET', '/v1/groups')).body.groups, []);
  });

  test('input errors are E_VALIDATION naming every bad field', async () => {
    const rows: Array<{ name: string; url: string; body: unknown; fields: string[] }> = [
      {
        name: 'group id not a slug',
        url: '/v1/groups',
        body: { id: 'Bad Id', accountId: 'alpha', role: 'web' },
        fields: ['body.id'],
      },
      {
        name: 'group without its account',
        url: '/v1/groups',
        body: { id: 'gx', role: 'web' },
        fields: ['body.accountId'],
      },
      {
        name: 'group role unknown, sizes negative',
        url: '/v1/groups',
        body: { id: 'gx', accountId: 'alpha', role: 'chef', minSize: -1 },
        fields: ['body.role', 'body.minSize'],
      },
      {
        name: 'group minimum above maximum',
        url: '/v1/groups',
        body: { id: 'gx', accountId: 'alpha', role: 'web', minSize: 5, maxSize: 2 },
        fields: ['body.minSize'],
      },
      {
        name: 'group of an account that does not exist',
        url: '/v1/groups',
        body: { id: 'gx', accountId: 'nobody', role: 'web' },
        fields: ['body.accountId'],
      },
      {
        name: 'group domain not a DNS name',
        url: '/v1/groups',
        body: { id: 'gx', accountId: 'alpha', role: 'web', domains: ['Not A Domain'] },
        fields: ['body.domains.0'],
      },
      {
        name: 'move to a target that is not a group id',
        url: '/v1/moves',
        body: { server: 'srv-03', to: 'Not A Group' },
        fields: ['body.to'],
      },
      { name: 'move without a server', url: '/v1/moves', body: { to: 'alpha-web' }, fields: ['body.server'] },
      {
        name: 'move with force not a boolean',
        url: '/v1/moves',
        body: { server: 'srv-03', to: 'alpha-web', force: 'yes' },
        fields: ['body.force'],
      },
      {
        name: 'server address not host:port',
        url: '/v1/servers',
        body: { id: 'srv-09', bmcUrl: site.bmc.url, systemId: 'm3', address: 'nowhere' },
        fields: ['body.address'],
      },
      {
        name: 'account name with markup',
        url: '/v1/accounts',
        body: { id: 'ax', displayName: '<b>bold</b>' },
        fields: ['body.displayName'],
      },
      {
        name: 'customer token without its account',
        url: '/v1/tokens',
        body: { role: 'customer', name: 'nobody' },
        fields: ['body.accountId'],
      },
    ];
    for (const row of rows) {
      const e = refused(await site.call('POST', row.url, row.body), 400, 'E_VALIDATION');
      assert.deepEqual(
        (e.fields ?? []).map((f) => f.field).sort(),
        [...row.fields].sort(),
        `${row.name}: ${JSON.stringify(e)}`,
      );
    }
    refused(await site.call('GET', '/v1/groups/gx'), 404, 'E_NOT_FOUND');
  });

  test('unknown body keys are refused with E_VALIDATION naming them, and nothing is created', async () => {
    const rows: Array<{ url: string; body: Record<string, unknown>; check: string }> = [
      { url: '/v1/accounts', body: { id: 'kx', displayName: 'K', colour: 'red' }, check: '/v1/accounts/kx' },
      {
        url: '/v1/groups',
        body: { id: 'kx-web', accountId: 'alpha', role: 'web', colour: 'red' },
        check: '/v1/groups/kx-web',
      },
      {
        url: '/v1/servers',
        body: { id: 'srv-kx', bmcUrl: site.bmc.url, systemId: 'm3', address: '10.9.9.9:80', colour: 'red' },
        check: '/v1/servers/srv-kx',
      },
      { url: '/v1/moves', body: { server: 'srv-03', to: 'alpha-web', colour: 'red' }, check: '' },
      { url: '/v1/tokens', body: { role: 'operator', name: 'kx', colour: 'red' }, check: '' },
      {
        url: '/v1/groups',
        body: {
          id: 'kx-web',
          accountId: 'alpha',
          role: 'web',
          runtime: { serviceTimeMs: 5, concurrency: 2, maxQueue: 9, turbo: true },
        },
        check: '/v1/groups/kx-web',
      },
    ];
    for (const row of rows) {
      const e = refused(await site.call('POST', row.url, row.body), 400, 'E_VALIDATION');
      const unknown = Object.keys(row.body).includes('colour') ? 'body.colour' : 'body.runtime.turbo';
      assert.deepEqual(
        e.fields,
        [{ field: unknown, problem: 'is not a known field; remove it' }],
        `${row.url}: ${JSON.stringify(e)}`,
      );
      if (row.check) refused(await site.call('GET', row.check), 404, 'E_NOT_FOUND');
    }
    assert.equal((await site.server('srv-03')).moveId, null, 'no move was started');
  });

  test('groups: a taken id or domain is E_CONFLICT', async () => {
    refused(
      await site.call('POST', '/v1/groups', { id: 'alpha-web', accountId: 'alpha', role: 'web' }),
      409,
      'E_CONFLICT',
    );
    refused(
      await site.call('POST', '/v1/groups', {
        id: 'alpha-two',
        accountId: 'alpha',
        role: 'web',
        domains: ['bravo.test'],
      }),
      409,
      'E_CONFLICT',
    );
  });

  test('servers: registering asks the BMC for the system’s UUID; an unknown system is E_BMC', async () => {
    refused(
      await site.call('POST', '/v1/servers', {
        id: 'srv-09',
        bmcUrl: site.bmc.url,
        systemId: 'm404',
        address: '10.9.9.9:80',
      }),
      502,
      'E_BMC',
    );
    const s = await site.call<{ server: { id: string; state: string } }>('GET', '/v1/servers/srv-03');
    assert.equal(s.body.server.state, 'pool-cold');
  });

  test('moves: 202 with its location; one move per server at a time; refusals that change nothing', async () => {
    const stall = site.bmc.faults.stallNext('reset');
    const r = await site.call<{ move: MoveRecord }>('POST', '/v1/moves', { server: 'srv-03', to: 'alpha-web' });
    assert.equal(r.status, 202);
    assert.equal(r.headers.location, `/v1/moves/${r.body.move.id}`);
    await stall.reached;
    const again = refused(
      await site.call('POST', '/v1/moves', { server: 'srv-03', to: 'bravo-web' }),
      409,
      'E_MOVE_IN_PROGRESS',
    );
    assert.match(again.message, new RegExp(r.body.move.id));
    const shown = await site.call<{ move: MoveRecord; events: Array<{ step: string; outcome: string }> }>(
      'GET',
      `/v1/moves/${r.body.move.id}`,
    );
    assert.equal(shown.body.move.step, 'reset');
    assert.deepEqual(
      shown.body.events.filter((e) => e.outcome === 'done').map((e) => e.step),
      ['set-boot-pointer', 'switch-volume'],
    );
    stall.release();
    assert.equal((await site.manager!.dispatcher.wait(r.body.move.id)).status, 'done');

    refused(await site.call('POST', '/v1/moves', { server: 'srv-99', to: 'alpha-web' }), 404, 'E_NOT_FOUND');
    refused(await site.call('POST', '/v1/moves', { server: 'srv-01', to: 'nobody-web' }), 404, 'E_NOT_FOUND');
    refused(await site.call('POST', '/v1/moves', { server: 'srv-01', to: 'alpha-web' }), 409, 'E_CONFLICT');
    await site.call('POST', '/v1/groups', {
      id: 'tiny-web',
      accountId: 'bravo',
      role: 'web',
      minSize: 1,
      maxSize: 1,
      domains: ['tiny.test'],
    });
    assert.equal((await site.move('srv-03', 'tiny-web')).status, 'done');
    const full = refused(await site.call('POST', '/v1/moves', { server: 'srv-01', to: 'tiny-web' }), 409, 'E_CONFLICT');
    assert.match(full.message, /maximum size/);
    const below = refused(await site.call('POST', '/v1/moves', { server: 'srv-03', to: 'pool' }), 409, 'E_CONFLICT');
    assert.match(below.message, /minimum/);
    for (const [id, group] of [
      ['srv-01', 'alpha-web'],
      ['srv-03', 'tiny-web'],
    ] as const) {
      const s = await site.server(id);
      assert.deepEqual([s.state, s.groupId, s.moveId], ['active', group, null], `${id} did not move`);
    }
    const forced = await site.move('srv-03', 'pool', true);
    assert.equal(forced.status, 'done', 'force leaves a group below its minimum');
  });

  describe('placement on fake hardware nodes', () => {
    const CAPACITY = { ram: 8192, cpu: 4000, disk: 200, bandwidth: 1000 };
    const shop = {
      id: 'shop',
      account: 'alpha',
      edge: { domains: ['shop.example.com'], balance: 'least-connections', sticky: false },
      tiers: [
        {
          name: 'lb',
          role: 'load-balancer',
          components: [{ id: 'lb-1', resources: { ram: 512, cpu: 200, disk: 5, bandwidth: 200 } }],
        },
        {
          name: 'web',
          role: 'web',
          components: ['web-1', 'web-2', 'web-3'].map((id) => ({
            id,
            resources: { ram: 1024, cpu: 400, disk: 10, bandwidth: 100 },
          })),
        },
        {
          name: 'db',
          role: 'db',
          components: [{ id: 'db-1', resources: { ram: 2048, cpu: 800, disk: 50, bandwidth: 50 } }],
        },
      ],
    };

    test('nodes are registered with the capacity they report; a wrong token or a silent node names the field', async () => {
      for (const id of ['node-a', 'node-b', 'node-c', 'node-d']) {
        const n = site.hypervisor.addNode({ id, capacity: CAPACITY });
        const r = await site.call<{ node: { id: string; state: string; capacity: unknown; token?: string } }>(
          'POST',
          '/v1/nodes',
          { id, url: n.url, token: n.token },
        );
        assert.equal(r.status, 201, JSON.stringify(r.body));
        assert.deepEqual([r.body.node.state, r.body.node.capacity, r.body.node.token], ['up', CAPACITY, undefined]);
      }
      const a = site.hypervisor.node('node-a');
      const wrong = refused(
        await site.call('POST', '/v1/nodes', { id: 'node-a', url: a.url, token: 'not-the-token-of-node-a' }),
        400,
        'E_VALIDATION',
      );
      assert.deepEqual(
        wrong.fields?.map((f) => f.field),
        ['body.token'],
      );
      const silent = refused(
        await site.call('POST', '/v1/nodes', { id: 'node-z', url: 'http://node-z.hv.fake', token: a.token }),
        400,
        'E_VALIDATION',
      );
      assert.deepEqual(
        silent.fields?.map((f) => f.field),
        ['body.url'],
      );
      refused(await as('alpha', 'GET', '/v1/nodes'), 403, 'E_FORBIDDEN');
    });

    test('a placed configuration runs on the nodes behind its edge pool; when a node dies only its components move', async () => {
      const placed = await as<{ configuration: { state: string }; components: MapRow[] }>(
        'alpha',
        'POST',
        '/v1/configurations',
        shop,
      );
      assert.equal(placed.status, 201, JSON.stringify(placed.body));
      assert.equal(placed.body.configuration.state, 'running');
      const web = placed.body.components.filter((c) => c.tier === 'web');
      assert.equal(new Set(web.map((c) => c.node)).size, 3, 'the web tier spreads over three nodes');
      for (const c of placed.body.components.filter((x) => x.tier !== 'lb')) {
        assert.equal(
          site.hypervisor.node(c.node).components.get(`shop.${c.component}`)?.address,
          c.address,
          `${c.component} runs where it is recorded`,
        );
      }
      const pool = async () => (await site.edge.status()).find((p) => p.id === 'cfg-shop');
      assert.deepEqual(
        (await pool())?.servers.map((s) => [s.id, s.address]),
        web.map((c) => [c.component, c.address]),
      );
      refused(await as('bravo', 'GET', '/v1/configurations/shop'), 404, 'E_NOT_FOUND');

      const victim = web[0]!.node;
      const onVictim = placed.body.components.filter((c) => c.node === victim).map((c) => c.component);
      site.hypervisor.kill(victim);
      const placement = site.manager!.components.placement.monitor;
      for (let i = 0; i < NODE_FAILURES_TO_DOWN; i++) await placement.checkNodes();
      const after = (await as<{ components: MapRow[] }>('alpha', 'GET', '/v1/configurations/shop')).body.components;
      for (const c of after) {
        const was = placed.body.components.find((x) => x.component === c.component)!;
        if (onVictim.includes(c.component))
          assert.deepEqual(
            [c.node !== victim, c.state, c.moves],
            [true, 'running', 1],
            `${c.component} moved once, off ${victim}`,
          );
        else assert.deepEqual([c.node, c.address, c.moves], [was.node, was.address, 0], `${c.component} stayed`);
      }
      assert.deepEqual(
        (await pool())?.servers.map((s) => [s.id, s.address]),
        after.filter((c) => c.tier === 'web').map((c) => [c.component, c.address]),
        'the edge pool follows',
      );
      const nodes = (
        await site.call<{ nodes: Array<{ id: string; state: string; components: string[] }> }>('GET', '/v1/nodes')
      ).body.nodes;
      assert.deepEqual(nodes.find((n) => n.id === victim)?.state, 'down');
    });
  });
});
