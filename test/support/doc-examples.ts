// The copy-paste examples of docs/*.md are exercised by the tests: a fenced block that follows
// `<!-- example: <name> -->` is read here, so the docs cannot drift from what is tested.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The code of the fenced block after `<!-- example: name -->` in `docs/<file>`. */
export function docExample(file: string, name: string): string {
  const text = readFileSync(`${ROOT}docs/${file}`, 'utf8');
  const marker = `<!-- example: ${name} -->`;
  const at = text.indexOf(marker);
  if (at === -1) throw new Error(`docs/${file} has no ${marker}`);
  const block = /```[a-z]*\n([\s\S]*?)\n```/.exec(text.slice(at + marker.length));
  if (block?.[1] === undefined) throw new Error(`docs/${file}: no code block after ${marker}`);
  return block[1];
}

/** Splits one shell command line into words (single and double quotes, no expansion). */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  const pattern = /'([^']*)'|"([^"]*)"|(\S+)/g;
  for (const match of line.matchAll(pattern)) words.push(match[1] ?? match[2] ?? match[3] ?? '');
  return words;
}

/** The first line of an example that starts with `command`, split into words. */
export function commandLine(example: string, command: string): string[] {
  const line = example.split('\n').find((text) => text.trimStart().startsWith(`${command} `));
  if (line === undefined) throw new Error(`no ${command} line in example`);
  return shellWords(line.trim());
}
