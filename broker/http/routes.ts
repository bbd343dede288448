// The HTTPS side of the WSS port: a tiny router for /healthz and whatever else a feature registers
// (metrics, the demo page, the dev token endpoint).
import type { IncomingMessage, ServerResponse } from 'node:http';

export type Route = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;
export type Routes = ReadonlyMap<string, Route>;

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(text);
}

export function createRequestListener(routes: Routes): Route {
  return async (request, response) => {
    const path = new URL(request.url ?? '/', 'https://localhost').pathname;
    const route = routes.get(path);
    if (route === undefined) return sendJson(response, 404, { error: 'not found' });
    try {
      await route(request, response);
    } catch {
      if (!response.headersSent) sendJson(response, 500, { error: 'internal error' });
      else response.destroy();
    }
  };
}
