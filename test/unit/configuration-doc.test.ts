// docs/configuration.md documents every setting the broker reads, and no setting that does not exist.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from '../../broker/index.ts';

const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
const rows = new Set([...doc.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((match) => match[1] ?? ''));

describe('docs/configuration.md', () => {
  it('has a table row for every setting', () => {
    expect(SETTINGS.filter((name) => !rows.has(name))).toEqual([]);
  });

  it('has no row for a setting that does not exist', () => {
    expect([...rows].filter((name) => !(SETTINGS as readonly string[]).includes(name))).toEqual([]);
  });
});
