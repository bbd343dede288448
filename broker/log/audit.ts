// Every refusal is one structured audit line: who, what, why — rate-limited, so that an attack cannot
// flood the log: per kind of refusal (action and code), a burst of lines, then a steady rate; the next
// line written says how many were suppressed in between.
import type { ErrorCode } from '../../protocol/index.ts';
import type { Logger } from './logger.ts';

export const AUDIT_ACTIONS = [
  'connect',
  'subscribe',
  'publish',
  'will',
  'forward',
  'expire',
  'refresh',
  'limit',
  'session',
  'ban',
  'kick',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface Refusal {
  readonly action: AuditAction;
  /** `user:<id>`, `handler:<name>`, `unknown` before the token is verified, `session` for a stored session. */
  readonly identity: string;
  readonly clientId: string | null;
  readonly topic?: string;
  readonly code: ErrorCode;
  readonly reason: string;
  /** The MQTT return code sent (CONNACK code, or 128 for SUBACK). */
  readonly returnCode?: number;
  readonly address?: string;
}

/** Lines of one kind written at once before the rate applies. */
export const AUDIT_BURST = 50;
/** Lines of one kind per second after the burst. */
export const AUDIT_LINES_PER_SEC = 10;

interface Bucket {
  tokens: number;
  at: number;
  suppressed: number;
}

const bucketsByLogger = new WeakMap<Logger, Map<string, Bucket>>();

/** Whether a line of `kind` may be written now; counts it as suppressed when not. */
function admit(logger: Logger, kind: string, now: number): Bucket | undefined {
  let buckets = bucketsByLogger.get(logger);
  if (buckets === undefined) bucketsByLogger.set(logger, (buckets = new Map<string, Bucket>()));
  let bucket = buckets.get(kind);
  if (bucket === undefined) buckets.set(kind, (bucket = { tokens: AUDIT_BURST, at: now, suppressed: 0 }));
  bucket.tokens = Math.min(AUDIT_BURST, bucket.tokens + ((now - bucket.at) / 1000) * AUDIT_LINES_PER_SEC);
  bucket.at = now;
  if (bucket.tokens < 1) {
    bucket.suppressed += 1;
    return undefined;
  }
  bucket.tokens -= 1;
  return bucket;
}

type RefusalObserver = (refusal: Refusal) => void;
const observers = new WeakMap<Logger, RefusalObserver>();

/**
 * Calls `observer` with every refusal audited through `logger`, before the rate limit applies to the
 * log lines: the refusal metrics (broker/metrics/) count them all.
 */
export function observeRefusals(logger: Logger, observer: RefusalObserver): void {
  observers.set(logger, observer);
}

export function auditRefusal(logger: Logger, refusal: Refusal): void {
  observers.get(logger)?.(refusal);
  const bucket = admit(logger, `${refusal.action}:${refusal.code}`, Date.now());
  if (bucket === undefined) return;
  const suppressed = bucket.suppressed;
  bucket.suppressed = 0;
  logger.warn(
    { audit: 'refused', ...refusal, ...(suppressed > 0 && { suppressed }) },
    `refused ${refusal.action}`,
  );
}

/** An operator's action on the admin API (broker/admin/): who asked, what, on whom. */
export interface AdminAction {
  readonly action: 'ban' | 'unban' | 'kick' | 'revoke';
  /** The admin caller's address. */
  readonly operator: string;
  readonly target: Readonly<Record<string, unknown>>;
  /** What happened on this node (clients closed, entries removed). */
  readonly outcome: Readonly<Record<string, unknown>>;
}

export function auditAdminAction(logger: Logger, action: AdminAction): void {
  const bucket = admit(logger, `admin:${action.action}`, Date.now());
  if (bucket === undefined) return;
  const suppressed = bucket.suppressed;
  bucket.suppressed = 0;
  logger.warn({ audit: 'admin', ...action, ...(suppressed > 0 && { suppressed }) }, `admin ${action.action}`);
}
