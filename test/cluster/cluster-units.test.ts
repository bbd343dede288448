// The pure parts of the cluster wiring: node ids, the cross-node pool choice, the cluster settings.
import { describe, expect, it } from 'vitest';
import { brokerIdOf, chooseNode, clusterNodeId, nodeIdOf, willBoundMs } from '../../broker/cluster/index.ts';
import { resolveOptions } from '../../broker/index.ts';
import { redisPatternOf } from '../../broker/cluster/redis-emitter.ts';

describe('node ids', () => {
  it('take NODE_ID, else the host name reduced to what a node id may hold', () => {
    expect(clusterNodeId('n1', 'ignored')).toBe('n1');
    expect(clusterNodeId(undefined, 'web-1.eu.example.com')).toBe('web-1-eu-example-com');
  });

  it('give each run its own broker id, so queued-message keys of a previous run are never reused', () => {
    const first = brokerIdOf('n1');
    const second = brokerIdOf('n1');
    expect(first).toMatch(/^n1\.[0-9a-f]{8}$/);
    expect(second).not.toBe(first);
    expect(nodeIdOf(first)).toBe('n1');
  });

  it('are validated with the settings, as is the heartbeat', () => {
    expect(() => resolveOptions({ NODE_ID: 'a/b' })).toThrow(/NODE_ID/);
    expect(() => resolveOptions({ NODE_ID: 'a:b' })).toThrow(/NODE_ID/);
    expect(() => resolveOptions({ CLUSTER_HEARTBEAT_MS: '50' })).toThrow(/CLUSTER_HEARTBEAT_MS/);
    expect(resolveOptions({})).toMatchObject({
      clusterHeartbeatMs: 1000,
      proxyProtocol: false,
      trustedProxies: [],
    });
    expect(resolveOptions({})).not.toHaveProperty('redisUrl');
    expect(willBoundMs(1000)).toBe(7000);
  });
});

describe('the cross-node pool choice', () => {
  const sizes = [
    ['b.2', 1],
    ['a.1', 2],
    ['c.3', 0],
  ] as const;

  it('is the same whatever the order the nodes are listed in', () => {
    for (let counter = 0; counter < 200; counter += 1) {
      const key = `x.1:${counter}`;
      expect(chooseNode(sizes, key)).toBe(chooseNode([...sizes].reverse(), key));
    }
  });

  it('never picks a node without members, and shares by member count', () => {
    const counts = new Map<string, number>();
    for (let counter = 0; counter < 3000; counter += 1) {
      const node = chooseNode(sizes, `x.1:${counter}`) ?? 'none';
      counts.set(node, (counts.get(node) ?? 0) + 1);
    }
    expect(counts.has('c.3')).toBe(false);
    expect(counts.get('a.1')).toBeGreaterThan(1700);
    expect(counts.get('b.2')).toBeGreaterThan(700);
    expect(chooseNode([['a.1', 0]], 'x')).toBeUndefined();
  });
});

describe('Redis patterns of wildcard filters', () => {
  it('replace + and a trailing # (with its separator: empty levels match) by *', () => {
    expect(redisPatternOf('alice/+/x')).toBe('alice/*/x');
    expect(redisPatternOf('alice/#')).toBe('alice*');
    expect(redisPatternOf('#')).toBe('*');
  });

  it('escape the characters a Redis pattern gives a meaning to, so they match themselves', () => {
    expect(redisPatternOf('alice/[x]/+')).toBe('alice/\\[x\\]/*');
    expect(redisPatternOf('alice/a\\b/what?/star*/#')).toBe('alice/a\\\\b/what\\?/star\\**');
  });
});
