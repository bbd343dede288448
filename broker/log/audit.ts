// Every refusal is one structured audit line: who, what, why.
import type { ErrorCode } from '../../protocol/index.ts';
import type { Logger } from './logger.ts';

export const AUDIT_ACTIONS = ['connect', 'subscribe', 'publish', 'will', 'forward', 'expire'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface Refusal {
  readonly action: AuditAction;
  /** `user:<id>`, `handler:<name>`, or `unknown` before the token is verified. */
  readonly identity: string;
  readonly clientId: string | null;
  readonly topic?: string;
  readonly code: ErrorCode;
  readonly reason: string;
  /** The MQTT return code sent (CONNACK code, or 128 for SUBACK). */
  readonly returnCode?: number;
  readonly address?: string;
}

export function auditRefusal(logger: Logger, refusal: Refusal): void {
  logger.warn({ audit: 'refused', ...refusal }, `refused ${refusal.action}`);
}
