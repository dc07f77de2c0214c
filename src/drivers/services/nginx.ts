/**
 * nginx is the web service driver: one server block per account (rendered by core), checked
 * with `nginx -t` against a main configuration that includes the new generation, made live,
 * and loaded with SIGHUP (nginx's graceful reload: old workers finish their requests). Server
 * blocks are shared blobs a generation's sites.conf includes, so a batch writes only the
 * blocks it changed.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { checkValue } from '../../core/provisioning/index.js';
import { renderNginx } from '../../core/provisioning/index.js';
import type { FieldProblem } from '../../core/errors.js';
import { hostPort, refused, specsOf } from './driver.js';
import type { ApplyOutcome, HeldEntry, ServiceDriver } from './driver.js';
import { Generations } from './generations.js';
import { run, startDaemon, waitForPort } from './process.js';
import type { Daemon } from './process.js';
import { writeFile } from 'node:fs/promises';

/** NginxOptions configure the web driver. */
export interface NginxOptions {
  /** base is the driver's directory (configuration, generations, logs). */
  readonly base: string;
  /** listen is the address:port of the sites. */
  readonly listen: string;
  /** volumesRoot holds the accounts' volumes (<volumesRoot>/<account>/www is a site's root). */
  readonly volumesRoot: string;
  readonly bin?: string | undefined;
}

function checkOptions(o: NginxOptions): FieldProblem[] {
  return [
    checkValue('absPath', 'nginx.base', o.base),
    checkValue('listen', 'nginx.listen', o.listen),
    checkValue('absPath', 'nginx.volumesRoot', o.volumesRoot),
  ].filter((p): p is FieldProblem => p !== null);
}

/** mainConfig is nginx.conf including the sites of one generation directory. */
function mainConfig(base: string, sitesDir: string, listen: string): string {
  return `# written by hostfleet
daemon off;
master_process on;
worker_processes 1;
pid ${base}/nginx.pid;
error_log ${base}/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    server_tokens off;
    default_type application/octet-stream;
    types { text/html html; text/css css; application/javascript js; image/png png; }
    client_body_temp_path ${base}/tmp/body;
    proxy_temp_path ${base}/tmp/proxy;
    fastcgi_temp_path ${base}/tmp/fastcgi;
    uwsgi_temp_path ${base}/tmp/uwsgi;
    scgi_temp_path ${base}/tmp/scgi;
    server_names_hash_bucket_size 128;
    server_names_hash_max_size 65536;
    server { listen ${listen} default_server; return 404; }
    include ${sitesDir}/*.conf;
}
`;
}

/** nginxDriver returns the web service driver. */
export function nginxDriver(o: NginxOptions): ServiceDriver {
  const problems = checkOptions(o);
  if (problems.length > 0)
    throw new Error(`invalid nginx driver options: ${problems.map((p) => `${p.field} ${p.problem}`).join('; ')}`);
  const bin = o.bin ?? 'nginx';
  const gens = new Generations(join(o.base, 'sites'));
  const conf = join(o.base, 'nginx.conf');
  let daemon: Daemon | undefined;
  return {
    service: 'web',
    async start() {
      for (const d of ['logs', 'tmp']) await mkdir(join(o.base, d), { recursive: true });
      await gens.init();
      await writeFile(conf, mainConfig(o.base, gens.live, o.listen));
      const t = await run(bin, ['-t', '-q', '-c', conf, '-p', `${o.base}/`]);
      if (t.code !== 0) throw new Error(`nginx -t refused the main configuration: ${t.output}`);
      daemon = await startDaemon(bin, ['-c', conf, '-p', `${o.base}/`]);
      const { host, port } = hostPort(o.listen);
      await waitForPort(host, port);
    },
    async apply(entries: ReadonlyMap<string, HeldEntry>): Promise<ApplyOutcome> {
      const { specs, problems } = specsOf('web', entries);
      if (problems.length) return refused(problems);
      const r = renderNginx(specs, { listen: o.listen, volumesRoot: o.volumesRoot });
      if (!r.ok) return refused(r.problems);
      // Each server block is a shared blob (written only when its text changed); the
      // generation holds sites.conf, which includes them in the rendered (sorted) order.
      const dir = await gens.write(new Map());
      const blobs = await gens.share(
        dir,
        '.conf',
        new Map([...r.value].map(([name, text]) => [name.replace(/\.conf$/, ''), text])),
      );
      await writeFile(
        join(dir, 'sites.conf'),
        [
          '# written by hostfleet: the server blocks of this generation',
          ...[...blobs.values()].map((p) => `include ${p};`),
          '',
        ].join('\n'),
      );
      const testConf = join(o.base, 'nginx.test.conf');
      await writeFile(testConf, mainConfig(o.base, dir, o.listen));
      const t = await run(bin, ['-t', '-q', '-c', testConf, '-p', `${o.base}/`]);
      if (t.code !== 0) {
        await gens.discard(dir);
        return { ok: false, stage: 'check', error: `nginx -t: ${t.output}` };
      }
      await gens.promote(dir);
      if (!daemon || daemon.exited())
        return { ok: false, stage: 'reload', error: `nginx is not running: ${daemon?.output() ?? 'not started'}` };
      daemon.signal('SIGHUP');
      return { ok: true };
    },
    async close() {
      await daemon?.stop();
    },
  };
}
