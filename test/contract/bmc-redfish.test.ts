// Redfish conformance of a Redfish service, driven with plain HTTP through standard resources
// only (ServiceRoot → Systems → a system → Boot → ComputerSystem.Reset), and once with
// redfishtool, the DMTF's own command-line client, when it is installed. One suite, run
// against every service in SERVICES: today the BMC emulator. (The in-memory fake BMC is a
// BmcDriver, not a Redfish service: it runs the driver's contract, bmc-driver.test.ts.)
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startBmcEmulator, type BmcEmulator } from '../../src/emulators/bmc/emulator.js';
import { demoPersonality, startStaticBootService, waitFor, type StaticBootService } from '../support/boot-service.js';

const USER = 'admin';
const PASS = 'correct horse battery staple';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASS}`).toString('base64')}`;

/** RedfishService is a running service with three machines m1–m3, user USER with PASS. */
type RedfishService = Pick<BmcEmulator, 'url' | 'machines' | 'close'>;

const SERVICES: ReadonlyArray<{ name: string; start(dir: string): Promise<RedfishService> }> = [
  {
    name: 'emulator',
    start: (dir) =>
      startBmcEmulator({
        machines: 3,
        username: USER,
        password: PASS,
        dataDir: dir,
        bootDelayMs: 50,
        gracefulTimeoutMs: 2000,
      }),
  },
];

let dir: string;
let emu: RedfishService;
let boot: StaticBootService;

interface Res {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function rf(
  method: string,
  path: string,
  opts: { body?: unknown; auth?: string | null; headers?: Record<string, string> } = {},
): Promise<Res> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  const auth = opts.auth === undefined ? BASIC : opts.auth;
  if (auth !== null) {
    if (auth.startsWith('Basic ')) headers.authorization = auth;
    else headers['x-auth-token'] = auth;
  }
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(emu.url + path, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await r.text();
  return { status: r.status, headers: r.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

function extendedInfo(
  body: Record<string, unknown>,
): { MessageId: string; Message: string; RelatedProperties?: string[] }[] {
  const e = body.error as Record<string, unknown> | undefined;
  assert.ok(e, `a Redfish error body, got ${JSON.stringify(body)}`);
  assert.equal(typeof e.code, 'string');
  assert.equal(typeof e.message, 'string');
  const info = e['@Message.ExtendedInfo'];
  assert.ok(Array.isArray(info) && info.length > 0, 'error.@Message.ExtendedInfo is a non-empty array');
  return info as { MessageId: string; Message: string; RelatedProperties?: string[] }[];
}

async function systemUris(): Promise<string[]> {
  const root = await rf('GET', '/redfish/v1/', { auth: null });
  const coll = await rf('GET', (root.body.Systems as { '@odata.id': string })['@odata.id']);
  return (coll.body.Members as { '@odata.id': string }[]).map((m) => m['@odata.id']);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

for (const svc of SERVICES) {
  describe(`Redfish conformance: ${svc.name}`, () => {
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'hf-bmc-redfish-'));
      await chmod(dir, 0o711);
      boot = await startStaticBootService();
      emu = await svc.start(dir);
    });

    after(async () => {
      await emu?.close();
      await boot?.close();
      await rm(dir, { recursive: true, force: true });
    });

    test('the service root is public and links Systems and Sessions', async () => {
      const r = await rf('GET', '/redfish/v1/', { auth: null });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('odata-version'), '4.0');
      assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
      for (const k of ['@odata.id', '@odata.type', '@odata.context', 'RedfishVersion', 'UUID'])
        assert.equal(typeof r.body[k], 'string', k);
      assert.match(r.body['@odata.type'] as string, /^#ServiceRoot\.v1_\d+_\d+\.ServiceRoot$/);
      assert.match(r.body.UUID as string, /^[0-9a-f-]{36}$/);
      assert.deepEqual(r.body.Systems, { '@odata.id': '/redfish/v1/Systems' });
      assert.deepEqual(r.body.SessionService, { '@odata.id': '/redfish/v1/SessionService' });
      assert.deepEqual((r.body.Links as Record<string, unknown>).Sessions, {
        '@odata.id': '/redfish/v1/SessionService/Sessions',
      });
      const v = await rf('GET', '/redfish', { auth: null });
      assert.deepEqual(v.body, { v1: '/redfish/v1/' });
    });

    test('everything but the service root and login requires credentials', async () => {
      const cases = [
        { name: 'no credentials', auth: null },
        { name: 'wrong password', auth: `Basic ${Buffer.from(`${USER}:nope`).toString('base64')}` },
        { name: 'unknown token', auth: 'not-a-session-token' },
      ];
      for (const c of cases) {
        for (const path of [
          '/redfish/v1/Systems',
          '/redfish/v1/Systems/m1',
          '/redfish/v1/SessionService',
          '/redfish/v1/SessionService/Sessions',
        ]) {
          const r = await rf('GET', path, { auth: c.auth });
          assert.equal(r.status, 401, `${c.name} ${path}`);
          assert.match(extendedInfo(r.body)[0]?.MessageId ?? '', /NoValidSession$/);
        }
        const p = await rf('POST', '/redfish/v1/Systems/m1/Actions/ComputerSystem.Reset', {
          auth: c.auth,
          body: { ResetType: 'On' },
        });
        assert.equal(p.status, 401, `${c.name} reset`);
      }
      const s = await rf('GET', '/redfish/v1/Systems/m1');
      assert.equal(s.body.PowerState, 'Off', 'the refused reset changed nothing');
    });

    test('Systems lists every machine and each is a ComputerSystem with Boot, Reset and the data address', async () => {
      const coll = await rf('GET', '/redfish/v1/Systems');
      assert.equal(coll.status, 200);
      assert.equal(coll.body['Members@odata.count'], 3);
      assert.equal(coll.body['@odata.type'], '#ComputerSystemCollection.ComputerSystemCollection');
      const uris = await systemUris();
      const uuids = new Set<string>();
      for (const uri of uris) {
        const s = await rf('GET', uri);
        assert.equal(s.status, 200);
        assert.match(s.body['@odata.type'] as string, /^#ComputerSystem\.v1_\d+_\d+\.ComputerSystem$/);
        assert.equal(s.body['@odata.id'], uri);
        assert.equal(s.headers.get('etag'), s.body['@odata.etag']);
        assert.ok(['On', 'Off'].includes(s.body.PowerState as string));
        assert.deepEqual(Object.keys(s.body.Status as object).sort(), ['Health', 'State']);
        assert.equal(s.body.PowerRestorePolicy, 'LastState');
        const b = s.body.Boot as Record<string, unknown>;
        assert.equal(b.BootSourceOverrideMode, 'UEFI');
        assert.ok((b['BootSourceOverrideTarget@Redfish.AllowableValues'] as string[]).includes('UefiHttp'));
        assert.ok('HttpBootUri' in b);
        const reset = (
          s.body.Actions as Record<string, { target: string; 'ResetType@Redfish.AllowableValues': string[] }>
        )['#ComputerSystem.Reset'];
        assert.equal(reset?.target, `${uri}/Actions/ComputerSystem.Reset`);
        for (const t of ['On', 'ForceOff', 'GracefulShutdown', 'GracefulRestart', 'ForceRestart', 'PowerCycle'])
          assert.ok(reset?.['ResetType@Redfish.AllowableValues'].includes(t), t);
        const oem = (s.body.Oem as Record<string, Record<string, unknown>>).Hostfleet;
        assert.match(oem?.DataAddress as string, /^127\.0\.0\.1:\d+$/);
        uuids.add(s.body.UUID as string);
      }
      assert.equal(uuids.size, 3, 'every machine has its own UUID');
    });

    test('boot pointer → Reset On: the machine fetches its personality with its UUID, boots the workload; ForceOff kills it and wipes scratch', async (t) => {
      const [uri] = await systemUris();
      assert.ok(uri);
      const sys = await rf('GET', uri);
      const uuid = sys.body.UUID as string;
      const m = emu.machines.find((x) => x.uuid === uuid);
      assert.ok(m);
      boot.set('/boot/m1', demoPersonality(uuid, { server: 'srv-a' }));
      const pointer = `${boot.url}/boot/m1`;

      const patch = await rf('PATCH', uri, {
        body: {
          Boot: { BootSourceOverrideEnabled: 'Once', BootSourceOverrideTarget: 'UefiHttp', HttpBootUri: pointer },
        },
      });
      assert.equal(patch.status, 200);
      const b = (await rf('GET', uri)).body.Boot as Record<string, unknown>;
      assert.deepEqual(
        [b.BootSourceOverrideEnabled, b.BootSourceOverrideTarget, b.HttpBootUri],
        ['Once', 'UefiHttp', pointer],
      );

      const target = (sys.body.Actions as Record<string, { target: string }>)['#ComputerSystem.Reset']?.target ?? '';
      const resetAt = performance.now();
      const reset = await rf('POST', target, { body: { ResetType: 'On' } });
      assert.equal(reset.status, 204);

      const dataAddress = (sys.body.Oem as Record<string, Record<string, unknown>>).Hostfleet?.DataAddress as string;
      const health = await waitFor('the workload to answer /healthz', async () => {
        const r = await fetch(`http://${dataAddress}/healthz`);
        return r.status === 200 ? ((await r.json()) as Record<string, unknown>) : undefined;
      });
      // A figure, not an assertion: reset to a healthy workload (50 ms POST + node start-up).
      t.diagnostic(`boot: Reset On to /healthz 200 in ${Math.round(performance.now() - resetAt)} ms`);
      assert.deepEqual(health, {
        status: 'ok',
        server: 'srv-a',
        account: 'acme',
        group: 'acme-web',
        role: 'web',
        machine: uuid,
      });
      assert.deepEqual(
        boot.fetches.filter((f) => f.path === '/boot/m1'),
        [{ path: '/boot/m1', machine: uuid, status: 200 }],
      );

      const on = await rf('GET', uri);
      assert.equal(on.body.PowerState, 'On');
      assert.deepEqual(on.body.Status, { State: 'Enabled', Health: 'OK' });
      assert.equal(
        (on.body.Boot as Record<string, unknown>).BootSourceOverrideEnabled,
        'Disabled',
        'a Once override is consumed by the boot',
      );
      const pid = (on.body.Oem as Record<string, Record<string, unknown>>).Hostfleet?.WorkloadPid as number;
      assert.ok(Number.isInteger(pid) && alive(pid));
      assert.ok((await readdir(m.scratch)).includes('session-cache.json'), 'the workload wrote to scratch');

      assert.equal((await rf('POST', target, { body: { ResetType: 'ForceOff' } })).status, 204);
      await waitFor('PowerState Off', async () =>
        (await rf('GET', uri)).body.PowerState === 'Off' ? true : undefined,
      );
      assert.equal(alive(pid), false, 'the workload process is gone');
      assert.deepEqual(await readdir(m.scratch), [], 'scratch is wiped');
      const off = await rf('GET', uri);
      assert.equal((off.body.Oem as Record<string, Record<string, unknown>>).Hostfleet?.WorkloadPid, null);
      await assert.rejects(fetch(`http://${dataAddress}/healthz`), 'nothing listens on the data address');
    });

    test('bad PATCH values are refused with 400 naming the property, and nothing is applied', async () => {
      const uri = '/redfish/v1/Systems/m2';
      const before = await rf('GET', uri);
      const cases = [
        {
          name: 'enabled not in list',
          body: { Boot: { BootSourceOverrideEnabled: 'Sometimes' } },
          id: 'PropertyValueNotInList',
          prop: 'BootSourceOverrideEnabled',
        },
        {
          name: 'target not in list',
          body: { Boot: { BootSourceOverrideTarget: 'Floppy' } },
          id: 'PropertyValueNotInList',
          prop: 'BootSourceOverrideTarget',
        },
        {
          name: 'legacy mode',
          body: { Boot: { BootSourceOverrideMode: 'Legacy' } },
          id: 'PropertyValueNotInList',
          prop: 'BootSourceOverrideMode',
        },
        {
          name: 'uri not a URI',
          body: { Boot: { HttpBootUri: 'boot me please' } },
          id: 'PropertyValueFormatError',
          prop: 'HttpBootUri',
        },
        {
          name: 'uri not http',
          body: { Boot: { HttpBootUri: 'file:///etc/shadow' } },
          id: 'PropertyValueFormatError',
          prop: 'HttpBootUri',
        },
        {
          name: 'uri a number',
          body: { Boot: { HttpBootUri: 42 } },
          id: 'PropertyValueTypeError',
          prop: 'HttpBootUri',
        },
        { name: 'Boot not an object', body: { Boot: 'UefiHttp' }, id: 'PropertyValueTypeError', prop: 'Boot' },
        {
          name: 'unknown boot property',
          body: { Boot: { BootNext: '0001' } },
          id: 'PropertyUnknown',
          prop: 'BootNext',
        },
        { name: 'read-only PowerState', body: { PowerState: 'On' }, id: 'PropertyNotWritable', prop: 'PowerState' },
        { name: 'unknown property', body: { Frobnicate: true }, id: 'PropertyUnknown', prop: 'Frobnicate' },
        {
          name: 'bad policy',
          body: { PowerRestorePolicy: 'Sometimes' },
          id: 'PropertyValueNotInList',
          prop: 'PowerRestorePolicy',
        },
        {
          name: 'one good, one bad',
          body: { Boot: { BootSourceOverrideEnabled: 'Continuous', BootSourceOverrideTarget: 'Floppy' } },
          id: 'PropertyValueNotInList',
          prop: 'BootSourceOverrideTarget',
        },
      ];
      for (const c of cases) {
        const r = await rf('PATCH', uri, { body: c.body });
        assert.equal(r.status, 400, c.name);
        const info = extendedInfo(r.body);
        assert.ok(
          info.some(
            (i) =>
              i.MessageId.endsWith(`.${c.id}`) &&
              i.Message.includes(c.prop) &&
              (i.RelatedProperties ?? []).some((p) => p.endsWith(`/${c.prop}`)),
          ),
          `${c.name}: ${JSON.stringify(info)}`,
        );
      }
      const malformed = await fetch(`${emu.url}${uri}`, {
        method: 'PATCH',
        headers: { authorization: BASIC, 'content-type': 'application/json' },
        body: '{"Boot": ',
      });
      assert.equal(malformed.status, 400);
      assert.match(
        extendedInfo((await malformed.json()) as Record<string, unknown>)[0]?.MessageId ?? '',
        /MalformedJSON$/,
      );
      const after = await rf('GET', uri);
      assert.deepEqual(after.body, before.body, 'no refused PATCH changed anything, not even the ETag');
    });

    test('Reset validates ResetType and unsupported methods answer 405 with Allow', async () => {
      const target = '/redfish/v1/Systems/m3/Actions/ComputerSystem.Reset';
      const cases = [
        { name: 'missing', body: {}, id: 'ActionParameterMissing' },
        { name: 'not in list', body: { ResetType: 'Nmi' }, id: 'ActionParameterValueNotInList' },
        { name: 'not a string', body: { ResetType: 1 }, id: 'ActionParameterValueNotInList' },
        { name: 'unknown parameter', body: { ResetType: 'On', Force: true }, id: 'ActionParameterUnknown' },
      ];
      for (const c of cases) {
        const r = await rf('POST', target, { body: c.body });
        assert.equal(r.status, 400, c.name);
        const info = extendedInfo(r.body);
        assert.ok(
          info.some((i) => i.MessageId.endsWith(`.${c.id}`)),
          `${c.name}: ${JSON.stringify(info)}`,
        );
        assert.ok(
          info.some((i) => i.Message.includes('ResetType') || i.Message.includes('Force')),
          c.name,
        );
      }
      const del = await rf('DELETE', '/redfish/v1/Systems/m3');
      assert.equal(del.status, 405);
      assert.equal(del.headers.get('allow'), 'GET, HEAD, PATCH');
      const missing = await rf('GET', '/redfish/v1/Systems/m99');
      assert.equal(missing.status, 404);
      assert.match(extendedInfo(missing.body)[0]?.MessageId ?? '', /ResourceMissingAtURI$/);
    });

    test('PATCH honours If-Match: a stale ETag is 412 and changes nothing', async () => {
      const uri = '/redfish/v1/Systems/m3';
      const a = await rf('GET', uri);
      const etag = a.headers.get('etag') ?? '';
      const ok = await rf('PATCH', uri, { body: { PowerRestorePolicy: 'AlwaysOff' }, headers: { 'if-match': etag } });
      assert.equal(ok.status, 200);
      assert.notEqual(ok.headers.get('etag'), etag);
      const stale = await rf('PATCH', uri, { body: { PowerRestorePolicy: 'AlwaysOn' }, headers: { 'if-match': etag } });
      assert.equal(stale.status, 412);
      assert.match(extendedInfo(stale.body)[0]?.MessageId ?? '', /PreconditionFailed$/);
      assert.equal((await rf('GET', uri)).body.PowerRestorePolicy, 'AlwaysOff');
      await rf('PATCH', uri, { body: { PowerRestorePolicy: 'LastState' } });
    });

    test('sessions: login returns 201, X-Auth-Token and Location; the token works until DELETE', async () => {
      const svc = await rf('GET', '/redfish/v1/SessionService');
      assert.equal(svc.status, 200);
      assert.equal(svc.body.ServiceEnabled, true);
      assert.equal(typeof svc.body.SessionTimeout, 'number');
      const sessionsUri = (svc.body.Sessions as { '@odata.id': string })['@odata.id'];

      const bad = await rf('POST', sessionsUri, { auth: null, body: { UserName: USER, Password: 'wrong' } });
      assert.equal(bad.status, 401);
      const missing = await rf('POST', sessionsUri, { auth: null, body: { UserName: USER } });
      assert.equal(missing.status, 400);
      assert.ok(extendedInfo(missing.body).some((i) => i.Message.includes('Password')));

      const login = await rf('POST', sessionsUri, { auth: null, body: { UserName: USER, Password: PASS } });
      assert.equal(login.status, 201);
      const token = login.headers.get('x-auth-token') ?? '';
      const location = login.headers.get('location') ?? '';
      assert.ok(token.length >= 16);
      assert.equal(location, login.body['@odata.id']);
      assert.equal(login.body.UserName, USER);
      assert.equal(JSON.stringify(login.body).includes(PASS), false, 'the password is never echoed');

      assert.equal((await rf('GET', '/redfish/v1/Systems', { auth: token })).status, 200);
      const list = await rf('GET', sessionsUri, { auth: token });
      assert.ok((list.body.Members as { '@odata.id': string }[]).some((m) => m['@odata.id'] === location));
      assert.equal((await rf('GET', location, { auth: token })).body.Id, login.body.Id);

      assert.equal((await rf('DELETE', location, { auth: token })).status, 204);
      assert.equal(
        (await rf('GET', '/redfish/v1/Systems', { auth: token })).status,
        401,
        'a logged-out token is refused',
      );
      assert.equal((await rf('DELETE', location)).status, 404);
    });

    test('redfishtool (DMTF) reads the service and drives a system', async (t) => {
      const exec = promisify(execFile);
      try {
        await exec('redfishtool', ['-V']);
      } catch {
        t.skip('redfishtool is not installed (Debian package redfishtool)');
        return;
      }
      const host = emu.url.replace(/^http:\/\//, '');
      const tool = async (...args: string[]): Promise<Record<string, unknown>> => {
        const r = await exec('redfishtool', ['-r', host, '-u', USER, '-p', PASS, '-S', 'Never', '-T', '10', ...args], {
          timeout: 30_000,
        });
        return r.stdout.trim() ? (JSON.parse(r.stdout) as Record<string, unknown>) : {};
      };
      const root = await tool('root');
      assert.equal(root['@odata.id'], '/redfish/v1/');
      const sys = await tool('-A', 'Session', 'Systems', '-I', 'm3', 'get');
      assert.equal(sys.Id, 'm3');
      await tool('-A', 'Basic', 'Systems', '-I', 'm3', 'setBootOverride', 'Continuous', 'Hdd');
      const b = (await tool('-A', 'Basic', 'Systems', '-I', 'm3', 'get', '-P', 'Boot')).Boot as Record<string, unknown>;
      assert.deepEqual([b.BootSourceOverrideEnabled, b.BootSourceOverrideTarget], ['Continuous', 'Hdd']);
      await tool('-A', 'Session', 'Systems', '-I', 'm3', 'reset', 'On');
      await waitFor('m3 on', async () =>
        (await rf('GET', '/redfish/v1/Systems/m3')).body.PowerState === 'On' ? true : undefined,
      );
      await tool('-A', 'Basic', 'Systems', '-I', 'm3', 'reset', 'ForceOff');
      await waitFor('m3 off', async () =>
        (await rf('GET', '/redfish/v1/Systems/m3')).body.PowerState === 'Off' ? true : undefined,
      );
      await tool(
        '-A',
        'Basic',
        'Systems',
        '-I',
        'm3',
        'patch',
        '{"Boot": {"BootSourceOverrideEnabled": "Disabled", "BootSourceOverrideTarget": "None"}}',
      );
    });
  });
}
