/** StoreKind names a store implementation. */
export type StoreKind = 'pglite' | 'postgres';

/** Sql runs one parameterised statement ($1, $2 …) and returns its rows. */
export interface Sql {
  query<R = Record<string, unknown>>(
    text: string,
    params?: readonly unknown[],
  ): Promise<{ rows: R[]; rowCount: number }>;
}

/**
 * Store is a Sql with transactions. transaction runs fn in one serialisable-enough unit
 * (READ COMMITTED plus the row locks the statements take); when fn throws, nothing it wrote
 * stays. Callers retry on E_CONFLICT.
 */
export interface Store extends Sql {
  readonly kind: StoreKind;
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  /** exec runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
  close(): Promise<void>;
}
