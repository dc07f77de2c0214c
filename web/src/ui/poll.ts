/**
 * poll keeps a view current by asking again at a fixed pace, for views whose data the live
 * stream does not carry (the decision loop's plans, billing, the global view).
 */
import { useEffect, useState } from 'preact/hooks';

/**
 * usePoll runs load now and every `everyMs` while the component is mounted (and again when a
 * dep changes): undefined until the first answer, null when the last read failed.
 */
export function usePoll<T>(
  load: () => Promise<T>,
  everyMs: number,
  deps: readonly unknown[] = [],
): T | null | undefined {
  const [v, setV] = useState<T | null | undefined>(undefined);
  useEffect(() => {
    let live = true;
    const read = () =>
      void load()
        .then((x) => live && setV(x))
        .catch(() => live && setV(null));
    read();
    const t = setInterval(read, everyMs);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, deps);
  return v;
}

/** useNow is the browser's clock, read again every `everyMs` so clocks and ages on the page move. */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}
