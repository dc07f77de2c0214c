/**
 * live keeps the page current: one EventSource on /v1/events gives the scoped status whenever
 * it changes and chart samples as they are taken; a dropped stream reconnects by itself.
 */
import { useEffect, useState } from 'preact/hooks';
import type { Sample, Status } from './api.js';

/** HISTORY is how many samples per group the page keeps (10 minutes at one every 2 s). */
const HISTORY = 300;

/** Live is what the stream has delivered so far. */
export interface Live {
  readonly status: Status | null;
  readonly samples: Readonly<Record<string, readonly Sample[]>>;
  readonly connected: boolean;
}

/** useLive subscribes to /v1/events for as long as the component is mounted. */
export function useLive(): Live {
  const [status, setStatus] = useState<Status | null>(null);
  const [samples, setSamples] = useState<Record<string, Sample[]>>({});
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    const es = new EventSource('/v1/events');
    es.addEventListener('open', () => setConnected(true));
    es.addEventListener('error', () => setConnected(false));
    es.addEventListener('status', (e) => setStatus(JSON.parse((e as MessageEvent<string>).data) as Status));
    es.addEventListener('samples', (e) => {
      const add = JSON.parse((e as MessageEvent<string>).data) as Record<string, Sample[]>;
      setSamples((old) => {
        const next: Record<string, Sample[]> = { ...old };
        for (const [g, xs] of Object.entries(add)) {
          const merged = [...(old[g] ?? []), ...xs.filter((x) => x.t > (old[g]?.at(-1)?.t ?? 0))];
          next[g] = merged.slice(-HISTORY);
        }
        return next;
      });
    });
    return () => es.close();
  }, []);
  return { status, samples, connected };
}
