/**
 * erlang holds the M/M/c queue the predictor turns a request rate into a response time with:
 * Poisson arrivals at rate λ, c servers each completing μ requests per second, one FIFO queue.
 * Erlang C is computed through the Erlang B recursion, which stays exact where the textbook
 * sum of a^k / k! overflows (hundreds of servers).
 */

/** erlangB is the blocking probability of M/M/c/c with offered load a = λ/μ. */
export function erlangB(c: number, a: number): number {
  let b = 1;
  for (let k = 1; k <= c; k++) b = (a * b) / (k + a * b);
  return b;
}

/** erlangC is the probability an arrival waits in M/M/c (offered load a = λ/μ); 1 when a ≥ c. */
export function erlangC(c: number, a: number): number {
  if (a <= 0) return 0;
  if (a >= c) return 1;
  const b = erlangB(c, a);
  const rho = a / c;
  return b / (1 - rho * (1 - b));
}

/** MmcResult describes the queue in steady state; times in seconds. */
export interface MmcResult {
  /** utilisation ρ = λ / (cμ). */
  readonly utilisation: number;
  /** stable is false when ρ ≥ 1: the queue grows without bound. */
  readonly stable: boolean;
  /** pWait is Erlang C, the probability an arrival waits. */
  readonly pWait: number;
  /** meanWait is E[Wq] = C / (cμ − λ). */
  readonly meanWait: number;
  /** meanResponse is E[T] = E[Wq] + 1/μ. */
  readonly meanResponse: number;
}

/** mmc solves an M/M/c queue; c a whole number ≥ 1, μ > 0, λ ≥ 0. */
export function mmc(lambda: number, mu: number, c: number): MmcResult {
  const a = lambda / mu;
  const utilisation = a / c;
  if (utilisation >= 1)
    return {
      utilisation,
      stable: false,
      pWait: 1,
      meanWait: Number.POSITIVE_INFINITY,
      meanResponse: Number.POSITIVE_INFINITY,
    };
  const pWait = erlangC(c, a);
  const meanWait = lambda > 0 ? pWait / (c * mu - lambda) : 0;
  return { utilisation, stable: true, pWait, meanWait, meanResponse: meanWait + 1 / mu };
}

/**
 * responseCdf is P(T ≤ t) for the response time T (wait + service) of M/M/c FIFO:
 * P(T > t) = e^(−μt) [1 + C (1 − e^(−μt(c−1−a))) / (c−1−a)], with the limit
 * e^(−μt)(1 + Cμt) when c − 1 − a = 0. 0 for an unstable queue.
 */
export function responseCdf(t: number, lambda: number, mu: number, c: number): number {
  if (t <= 0) return 0;
  const a = lambda / mu;
  if (a >= c) return 0;
  return responseCdfWith(t, lambda, mu, c, erlangC(c, a));
}

/**
 * responseCdfWith is responseCdf with Erlang C already known (mmc's pWait for the same λ, μ and
 * c), so a caller that needs both does not run the Erlang B recursion — O(c) — twice.
 */
export function responseCdfWith(t: number, lambda: number, mu: number, c: number, C: number): number {
  if (t <= 0) return 0;
  const a = lambda / mu;
  if (a >= c) return 0;
  const d = c - 1 - a;
  const es = Math.exp(-mu * t);
  const tail = Math.abs(d) < 1e-9 ? es * (1 + C * mu * t) : es * (1 + (C * (1 - Math.exp(-mu * t * d))) / d);
  const p = 1 - tail;
  return p < 0 ? 0 : p > 1 ? 1 : p;
}

/** waitCdf is P(Wq ≤ t) = 1 − C e^(−(cμ − λ)t). */
export function waitCdf(t: number, lambda: number, mu: number, c: number): number {
  const a = lambda / mu;
  if (a >= c) return 0;
  if (t < 0) return 0;
  return 1 - erlangC(c, a) * Math.exp(-(c * mu - lambda) * t);
}
