// The NATS bus against a private nats-server (Debian package nats-server) started by the test
// on a free loopback port: with token authentication and JetStream on a temporary store
// (credentials are checked, a client reconnects after the server restarts, and a file-stored
// stream keeps its messages across the restart), and with mutual TLS (certificates made with
// openssl for the test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isHostfleetError } from '../../src/core/errors.js';
import { busFailure, natsBus, type Bus } from '../../src/drivers/bus/index.js';
import { freePort } from '../../src/services/shared/ports.js';
import { NATS_BIN, natsAvailable, startNatsServer, stopNatsServer } from '../support/nats.js';

const BIN = NATS_BIN;
const available = natsAvailable;

/** startServer runs nats-server and resolves once it reports ready (bounded to 15 s). */
async function startServer(port: number, token: string, storeDir: string): Promise<ChildProcess> {
  return startWith(['-a', '127.0.0.1', '-p', String(port), '--auth', token, '-js', '-sd', storeDir]);
}

const startWith = startNatsServer;
const stopServer = stopNatsServer;

async function waitFor(cond: () => boolean, what: string, ms = 20_000, tick?: () => Promise<void>): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await tick?.();
    await new Promise((r) => setTimeout(r, 50));
  }
}

test(
  'NATS bus: token auth, reconnect after a server restart, file-stored stream survives it',
  { skip: available ? false : `${BIN} is not installed (apt-get install nats-server)` },
  async () => {
    const port = await freePort();
    const token = randomBytes(16).toString('hex');
    const storeDir = mkdtempSync(join(tmpdir(), 'hf-nats-'));
    const servers = `nats://127.0.0.1:${port}`;
    let server = await startServer(port, token, storeDir);
    const buses: Bus[] = [];
    try {
      const wrong = await natsBus({ servers, token: 'not-the-token', maxReconnectAttempts: 0 }).then(
        () => assert.fail('connected with a wrong token'),
        (e: unknown) => e,
      );
      assert.ok(
        isHostfleetError(wrong, 'E_UNAUTHENTICATED') && busFailure(wrong) === 'auth',
        `wrong token: ${String(wrong)}`,
      );

      const a = await natsBus({ servers, token, reconnectTimeWaitMs: 100, onError: () => undefined, name: 'agent-a' });
      buses.push(a);
      const got: number[] = [];
      await a.subscribe('hf.lab.status.>', (d) => void got.push(d as number));
      await a.durable.ensureStream({ name: 'hf-lab-requests', subjects: ['hf.lab.request.>'] });
      for (let i = 1; i <= 3; i++) await a.durable.publish('hf.lab.request.acme.srv-1', i);

      const statuses: string[] = [];
      a.onStatus((st) => statuses.push(st));
      await stopServer(server);
      await waitFor(() => a.status() === 'reconnecting', 'the client notices the server is gone');
      server = await startServer(port, token, storeDir);
      await a.waitConnected(20_000);
      assert.deepEqual(statuses, ['reconnecting', 'connected']);

      const b = await natsBus({ servers, token, name: 'manager' });
      buses.push(b);
      // a reconnects on its own; keep publishing until its resubscription is live.
      let n = 100;
      await waitFor(
        () => got.length > 0,
        'the reconnected subscriber to receive',
        20_000,
        () => b.publish('hf.lab.status.acme.srv-2', n++),
      );
      assert.ok(got.every((v) => v >= 100));

      const durable: number[] = [];
      await b.durable.consume('hf-lab-requests', 'manager', (d) => void durable.push(d as number), {
        ackWaitMs: 2_000,
      });
      await waitFor(() => durable.length >= 3, 'stored requests after the restart');
      assert.deepEqual(durable, [1, 2, 3]);
      // The client that published before the restart still works for durable publishes.
      const ack = await a.durable.publish('hf.lab.request.acme.srv-1', 4);
      assert.equal(ack.seq, 4);
    } finally {
      for (const bus of buses) await bus.close().catch(() => undefined);
      await stopServer(server);
      rmSync(storeDir, { recursive: true, force: true });
    }
  },
);

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

/** makeCerts creates a CA, a server certificate for 127.0.0.1 and a client certificate. */
function makeCerts(dir: string): {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
} {
  const f = (n: string): string => join(dir, n);
  const ssl = (...args: string[]): void => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
    '-days',
    '1',
    '-subj',
    '/CN=hostfleet-test-ca',
  );
  writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  writeFileSync(f('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const who of ['server', 'client']) {
    ssl('req', ...ec, '-keyout', f(`${who}.key`), '-out', f(`${who}.csr`), '-subj', `/CN=hostfleet-test-${who}`);
    ssl(
      'x509',
      '-req',
      '-in',
      f(`${who}.csr`),
      '-CA',
      f('ca.pem'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-out',
      f(`${who}.pem`),
      '-days',
      '1',
      '-extfile',
      f(`${who}.ext`),
    );
  }
  return {
    ca: f('ca.pem'),
    serverCert: f('server.pem'),
    serverKey: f('server.key'),
    clientCert: f('client.pem'),
    clientKey: f('client.key'),
  };
}

test(
  'NATS bus over mutual TLS: a client certificate is required and the bus works through it',
  { skip: available && hasOpenssl ? false : 'needs nats-server and openssl' },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hf-nats-tls-'));
    const certs = makeCerts(dir);
    const port = await freePort();
    const server = await startWith([
      '-a',
      '127.0.0.1',
      '-p',
      String(port),
      '--tlsverify',
      '--tlscert',
      certs.serverCert,
      '--tlskey',
      certs.serverKey,
      '--tlscacert',
      certs.ca,
    ]);
    const buses: Bus[] = [];
    try {
      const servers = `tls://127.0.0.1:${port}`;
      const refused = await natsBus({
        servers,
        tls: { caFile: certs.ca },
        maxReconnectAttempts: 0,
        connectTimeoutMs: 3_000,
      }).then(
        (b) => {
          buses.push(b);
          return undefined;
        },
        (e: unknown) => e,
      );
      assert.ok(isHostfleetError(refused), `a client without a certificate is refused (got ${String(refused)})`);
      const a = await natsBus({
        servers,
        tls: { caFile: certs.ca, certFile: certs.clientCert, keyFile: certs.clientKey },
        name: 'manager',
      });
      buses.push(a);
      const b = await natsBus({
        servers,
        tls: { caFile: certs.ca, certFile: certs.clientCert, keyFile: certs.clientKey },
        name: 'srv-1',
      });
      buses.push(b);
      await b.reply('hf.lab.nudge.srv-1', (d) => ({ applied: (d as { n: number }).n }));
      assert.deepEqual(await a.request('hf.lab.nudge.srv-1', { n: 3 }, { timeoutMs: 5_000 }), { applied: 3 });
    } finally {
      for (const bus of buses) await bus.close().catch(() => undefined);
      await stopServer(server);
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
