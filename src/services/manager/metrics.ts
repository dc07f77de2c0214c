/**
 * metrics is the manager's Prometheus registry: move outcomes and durations, step durations,
 * servers by state and place (read from the store at scrape time), HTTP requests.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { placeOf } from '../../core/model/server.js';
import { listServers } from '../../drivers/store/resources.js';
import type { Sql } from '../../drivers/store/index.js';

/** ManagerMetrics records what the manager does, for /metrics. */
export class ManagerMetrics {
  readonly registry = new Registry();
  private readonly moves: Counter<'outcome'>;
  private readonly moveSeconds: Histogram<'outcome'>;
  private readonly stepSeconds: Histogram<'step'>;
  readonly http: Counter<'route' | 'method' | 'status'>;

  constructor(sql: Sql) {
    collectDefaultMetrics({ register: this.registry, prefix: 'hostfleet_manager_' });
    this.moves = new Counter({
      name: 'hostfleet_moves_total',
      help: 'Moves finished, by outcome',
      labelNames: ['outcome'],
      registers: [this.registry],
    });
    this.moveSeconds = new Histogram({
      name: 'hostfleet_move_duration_seconds',
      help: 'Time from a move request to its end',
      labelNames: ['outcome'],
      buckets: [0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30, 60],
      registers: [this.registry],
    });
    this.stepSeconds = new Histogram({
      name: 'hostfleet_move_step_duration_seconds',
      help: 'Time a move step took',
      labelNames: ['step'],
      buckets: [0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
      registers: [this.registry],
    });
    this.http = new Counter({
      name: 'hostfleet_api_requests_total',
      help: 'API requests',
      labelNames: ['route', 'method', 'status'],
      registers: [this.registry],
    });
    new Gauge({
      name: 'hostfleet_servers',
      help: 'Servers by lifecycle state and place',
      labelNames: ['state', 'place'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const s of await listServers(sql)) this.inc({ state: s.state, place: placeOf(s) });
      },
    });
  }

  /** moveFinished counts a finished move and its duration. */
  moveFinished(outcome: string, seconds: number): void {
    this.moves.inc({ outcome });
    this.moveSeconds.observe({ outcome }, seconds);
  }

  /** stepDone records a step's duration. */
  stepDone(step: string, seconds: number): void {
    this.stepSeconds.observe({ step }, seconds);
  }
}
