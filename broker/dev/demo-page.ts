// The demo web app on the HTTPS port: `/demo/` serves the files `npm run build:web` writes to
// `dist/web/` (the page, its stylesheet, its script and the client SDK's browser bundle). Same origin
// as `wss://<host>/mqtt`, so the page needs no CORS and trusts the same certificate as the socket.
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { Route } from '../http/routes.ts';
import { PACKAGE_ROOT } from './package-files.ts';

export const DEMO_PATH = '/demo/';
/** Where `npm run build:web` writes the demo app. */
export const DEFAULT_DEMO_DIR = join(PACKAGE_ROOT, 'dist', 'web');
/** The files of the built demo app; nothing else under `/demo/` is served. */
export const DEMO_FILES = ['index.html', 'style.css', 'app.js', 'cashew-sdk.js'] as const;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
};

/**
 * Scripts, styles and sockets from this origin only (`'self'` covers `wss:` to the same host); mqtt.js
 * runs its keepalive timers in a `blob:` worker so that a background tab does not miss its pings.
 */
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; worker-src blob:; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Cashew demo</title>
<p>The demo app is not built. Run <code>npm run build:web</code> and reload.</p>`;

function serveFile(path: string): Route {
  return async (_request, response) => {
    let body: Buffer;
    try {
      body = await readFile(path);
    } catch {
      response.writeHead(503, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      response.end(NOT_BUILT);
      return;
    }
    response.writeHead(200, {
      'content-type': CONTENT_TYPES[extname(path)] ?? 'application/octet-stream',
      'cache-control': 'no-cache',
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
    response.end(body);
  };
}

const redirectTo =
  (location: string): Route =>
  (_request, response) => {
    response.writeHead(302, { location });
    response.end();
  };

/** `/` and `/demo` redirect to `/demo/`; `/demo/` is the page; `/demo/<file>` its assets. */
export function demoPageRoutes(dir: string = DEFAULT_DEMO_DIR): Map<string, Route> {
  const routes = new Map<string, Route>([
    ['/', redirectTo(DEMO_PATH)],
    ['/demo', redirectTo(DEMO_PATH)],
    [
      '/favicon.ico',
      (_request, response) => {
        response.writeHead(204);
        response.end();
      },
    ],
    [DEMO_PATH, serveFile(join(dir, 'index.html'))],
  ]);
  for (const file of DEMO_FILES) routes.set(DEMO_PATH + file, serveFile(join(dir, file)));
  return routes;
}
