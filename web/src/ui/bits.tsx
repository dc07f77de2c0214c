/**
 * bits are the console's small shared pieces: state badges, per-server meters (colours as in
 * the control panel of seed 003: above 50% yellow, above 75% red), move progress, buttons.
 */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, MOVE_STEPS } from '../api.js';
import type { Move } from '../api.js';

/** level names a meter's colour band. */
export function level(frac: number): 'ok' | 'warn' | 'high' {
  return frac > 0.75 ? 'high' : frac > 0.5 ? 'warn' : 'ok';
}

/** MeterBar is one horizontal meter with its label and percentage. */
export function MeterBar(props: { label: string; frac: number | null; title?: string }) {
  const f = props.frac === null ? 0 : Math.max(0, Math.min(1, props.frac));
  return (
    <div class="meter" title={props.title}>
      <span class="meter-label">{props.label}</span>
      <span class="meter-track">
        <span class={`meter-fill ${level(f)}`} style={{ width: `${(f * 100).toFixed(0)}%` }} />
      </span>
      <span class="meter-val">{props.frac === null ? '–' : `${(f * 100).toFixed(0)}%`}</span>
    </div>
  );
}

/** Badge shows a state with its colour. */
export function Badge(props: { state: string; children?: ComponentChildren }) {
  return <span class={`badge s-${props.state}`}>{props.children ?? props.state}</span>;
}

/** since formats how long ago an ISO time was. */
export function since(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  return `${Math.floor(s / 3600)}h ago`;
}

/** duration formats a move's run time. */
export function duration(m: Move): string {
  const end = m.finishedAt ? Date.parse(m.finishedAt) : Date.now();
  return `${((end - Date.parse(m.createdAt)) / 1000).toFixed(1)} s`;
}

/** MoveSteps draws a move's steps as a progress track: done, current, to come. */
export function MoveSteps(props: { move: Move }) {
  const m = props.move;
  const seen = new Map(m.steps.map((s) => [s.step, s.outcome]));
  const steps = MOVE_STEPS.filter((s) => (m.toGroup === null ? s !== 'attach' : s !== 'power-off'));
  return (
    <ol class="steps">
      {steps.map((s) => {
        const o = seen.get(s);
        const cls =
          m.status === 'done' || o === 'done' || o === 'skipped'
            ? 'done'
            : s === m.step
              ? m.status === 'running'
                ? 'now'
                : 'bad'
              : o === 'failed'
                ? 'bad'
                : '';
        return (
          <li class={cls} title={o ?? ''}>
            {s}
          </li>
        );
      })}
    </ol>
  );
}

/** useAction runs one API action at a time and keeps its error to show. */
export function useAction(): {
  busy: boolean;
  error: string | null;
  ok: string | null;
  run: (label: string, f: () => Promise<unknown>) => Promise<void>;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [ok, setOk] = useState<string | null>(null);
  return {
    busy,
    error,
    ok,
    async run(label, f) {
      setBusy(true);
      setError(null);
      setOk(null);
      try {
        await f();
        setOk(label);
      } catch (e) {
        setError(e instanceof ApiError ? `${e.message} (${e.code})` : (e as Error).message);
      } finally {
        setBusy(false);
      }
    },
  };
}

/** Notice shows the outcome of the last action. */
export function Notice(props: { error: string | null; ok: string | null }) {
  if (props.error)
    return (
      <div class="notice bad" role="alert">
        {props.error}
      </div>
    );
  if (props.ok)
    return (
      <div class="notice good" role="status">
        {props.ok}
      </div>
    );
  return null;
}

/** Card is a titled panel. */
export function Card(props: {
  title: ComponentChildren;
  extra?: ComponentChildren;
  children: ComponentChildren;
  class?: string;
  testId?: string;
}) {
  return (
    <section class={`card ${props.class ?? ''}`} data-testid={props.testId}>
      <header class="card-head">
        <h2>{props.title}</h2>
        {props.extra}
      </header>
      {props.children}
    </section>
  );
}
