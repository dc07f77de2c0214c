/**
 * haproxy-status reads a dynamic server's state out of HAProxy's answers: the admin and
 * operational state of `show servers state` and the counters of `show stat`.
 */
import type { EdgeServerState, EdgeServerStatus } from './types.js';

// HAProxy's srv_admin_state bits (src/server.h): forced/inherited/config/resolution/health maintenance, and drain.
const ADMIN_MAINT = 0x01 | 0x02 | 0x04 | 0x20 | 0x40;
/** ADMIN_DRAIN are the srv_admin_state bits of a draining server (forced or inherited). */
export const ADMIN_DRAIN = 0x08 | 0x10;
// HAProxy's srv_op_state values.
/** OP_STOPPED is the srv_op_state of a server that is down. */
export const OP_STOPPED = 0;
const OP_STOPPING = 3;

/** serverStatus builds a server's status from its `show servers state` row and its `show stat` row (if any). */
export function serverStatus(row: Record<string, string>, stat: Record<string, string> | undefined): EdgeServerStatus {
  const admin = Number(row.srv_admin_state);
  const op = Number(row.srv_op_state);
  let state: EdgeServerState = 'up';
  if (admin & ADMIN_DRAIN || op === OP_STOPPING) state = 'draining';
  else if (admin & ADMIN_MAINT || op === OP_STOPPED) state = 'down';
  const n = (k: string): number => Number(stat?.[k] ?? 0) || 0;
  return {
    id: row.srv_name ?? '',
    address: `${row.srv_addr}:${row.srv_port}`,
    state,
    outstanding: n('scur') + n('qcur'),
    served: n('hrsp_1xx') + n('hrsp_2xx') + n('hrsp_3xx') + n('hrsp_4xx') + n('hrsp_5xx') + n('hrsp_other'),
    failures: n('econ') + n('eresp') + n('chkfail'),
  };
}
