// GET /readyz: whether this node should receive traffic — its listeners are up, Redis (clustered)
// answers, and the JWKS (when tokens are verified with one) was fetched. Liveness is /healthz on
// the public port and reveals nothing.
export type CheckState = 'ok' | 'not ready' | 'not used';

export interface ReadinessState {
  readonly ready: boolean;
  readonly checks: Readonly<Record<'listeners' | 'redis' | 'jwks', CheckState>>;
}

export interface ReadinessSources {
  readonly listening: () => boolean;
  /** Absent on a single in-memory node. */
  readonly redis?: () => boolean;
  /** Absent without JWKS_URL. */
  readonly jwks?: () => boolean;
}

export interface Readiness {
  check(): Promise<ReadinessState>;
}

const stateOf = (probe: (() => boolean) | undefined): CheckState =>
  probe === undefined ? 'not used' : probe() ? 'ok' : 'not ready';

export function createReadiness(sources: ReadinessSources): Readiness {
  return {
    check: () => {
      const checks = {
        listeners: stateOf(sources.listening),
        redis: stateOf(sources.redis),
        jwks: stateOf(sources.jwks),
      };
      return Promise.resolve({ ready: !Object.values(checks).includes('not ready'), checks });
    },
  };
}
