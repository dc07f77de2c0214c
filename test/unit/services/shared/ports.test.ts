// freePort: ports below the kernel's ephemeral range, free for TCP and UDP when returned.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { freePort } from '../../../../src/services/shared/ports.js';

test('freePort returns distinct-enough ports below the ephemeral range that can be bound at once', async () => {
  const ephemeral = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  const ports = new Set<number>();
  for (let i = 0; i < 20; i++) {
    const p = await freePort();
    assert.ok(p >= 10_000 && p < ephemeral, `${p} lies in 10000–${ephemeral - 1}`);
    const s = createServer();
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(p, '127.0.0.1', () => resolve());
    });
    ports.add(p);
    await new Promise<void>((r) => s.close(() => r()));
  }
  assert.ok(ports.size >= 15, `random, not one port over and over: ${[...ports].join(',')}`);
});
