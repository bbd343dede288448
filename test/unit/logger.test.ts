// LOG_FORMAT: which output a broker process writes.
import { describe, expect, it } from 'vitest';
import { prettyOutput } from '../../broker/log/logger.ts';

describe('prettyOutput', () => {
  it.each([
    ['auto', true, true],
    ['auto', false, false],
    ['json', true, false],
    ['json', false, false],
    ['pretty', true, true],
    ['pretty', false, true],
  ] as const)('LOG_FORMAT=%s, stdout a terminal: %s → pretty %s', (format, terminal, pretty) => {
    expect(prettyOutput(format, terminal)).toBe(pretty);
  });
});
