// Who a node is in the cluster. The node id (NODE_ID, else the host name) is stable across
// restarts and names the node in logs and /healthz. The aedes broker id adds a per-start suffix:
// aedes-persistence-redis keys queued messages by `<brokerId>:<brokerCounter>` and the counter
// restarts at 0, so a restarted node reusing its id would overwrite messages still queued for
// offline sessions, and the wills of its previous run would never be published.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** The node id: NODE_ID, else the host name reduced to the characters a node id may hold. */
export function clusterNodeId(configured: string | undefined, host = hostname()): string {
  if (configured !== undefined) return configured;
  const fromHost = host.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64);
  return fromHost === '' ? 'node' : fromHost;
}

/** The aedes broker id of this run: `<nodeId>.<8 hex digits>` (no `/` or `:`, used in keys and topics). */
export function brokerIdOf(nodeId: string): string {
  return `${nodeId}.${randomBytes(4).toString('hex')}`;
}

/** The node id back from a broker id (for logs about other nodes). */
export function nodeIdOf(brokerId: string): string {
  const dot = brokerId.lastIndexOf('.');
  return dot === -1 ? brokerId : brokerId.slice(0, dot);
}
