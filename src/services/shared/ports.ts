/**
 * ports picks a port for a listener bound a moment (or a reboot) later: an emulated machine's
 * data port, a hypervisor's, a daemon in a test. The kernel's "any free port" (listen on 0)
 * comes from the ephemeral range, which outgoing connections also draw their local ports
 * from, so between choosing a port and binding it a client connection could take it
 * ("Address already in use"). The port is drawn at random below that range instead, and
 * checked free for TCP and UDP (a name server binds both).
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { systemRandom } from '../../drivers/random/index.js';
import type { RandomSource } from '../../drivers/random/index.js';

const LOW = 10_000;

/** ephemeralStart is the first port of the kernel's ephemeral range (32768 where it cannot be read). */
function ephemeralStart(): number {
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > LOW + 1000 ? first : 32_768;
  } catch {
    return 32_768;
  }
}

const HIGH = ephemeralStart();

/** tcpFree tells whether port on host is free for a TCP listener now. */
export function tcpFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

function udpFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind(port, host, () => s.close(() => resolve(true)));
  });
}

/**
 * freePort returns a port on host (default loopback) below the ephemeral range that is free for TCP and UDP now.
 * random draws the candidates (default systemRandom), so a test can replay a sequence of tries.
 */
export async function freePort(host = '127.0.0.1', random: RandomSource = systemRandom): Promise<number> {
  for (let i = 0; i < 500; i++) {
    const port = LOW + Math.floor(random.next() * (HIGH - LOW));
    if ((await tcpFree(host, port)) && (await udpFree(host, port))) return port;
  }
  throw new Error(`no free port found on ${host} in ${LOW}–${HIGH - 1}`);
}
