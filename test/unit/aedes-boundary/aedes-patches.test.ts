// Pins the patch-package patches in patches/ against the installed upstream code: each test fails when
// the patch is not applied (a clean install that skipped postinstall) or when the upstream function
// it changes was rewritten (an aedes upgrade: patch-package then fails to apply, and this says where).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// aedes' `exports` map hides package.json: the copy this repository installed, found by path.
const aedesRoot = fileURLToPath(new URL('../../../node_modules/aedes/', import.meta.url));

function functionSource(file: string, name: string): string {
  const source = readFileSync(join(aedesRoot, file), 'utf8');
  const start = source.indexOf(`function ${name} (`);
  expect(start, `${file} has no function ${name}`).toBeGreaterThan(-1);
  const end = source.indexOf('\n}\n', start);
  return source.slice(start, end + 2);
}

describe('patches/aedes+1.2.0.patch', () => {
  it('is for the installed aedes version', () => {
    const { version } = JSON.parse(readFileSync(join(aedesRoot, 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(version).toBe('1.2.0');
  });

  it('emptyQueue (lib/handlers/connect.js) skips the stream when outgoingQueued says nothing is queued', () => {
    const emptyQueue = functionSource('lib/handlers/connect.js', 'emptyQueue');
    expect(emptyQueue).toContain(
      "if (typeof persistence.outgoingQueued === 'function' && !persistence.outgoingQueued(client)) {",
    );
    // The upstream code the patch sits in front of: a stream piped through a Transform per CONNECT.
    expect(emptyQueue).toContain('const outgoing = persistence.outgoingStream(client)');
    expect(emptyQueue).toMatch(/pipeline\(\s*outgoing,\s*through\(function clearQueue/);
  });
});
