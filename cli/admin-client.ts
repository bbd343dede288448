// The HTTP side of `cashew admin`: one JSON request to the admin listener, bounded by a timeout,
// with the bearer token and, for HTTPS, an optional CA. Where the listener is comes from --url, or
// from the broker's own ADMIN_HOST / ADMIN_PORT / ADMIN_TOKEN settings (environment or .env).
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { DEFAULT_ADMIN_HOST, DEFAULT_ADMIN_PORT, isLoopbackHost } from '../broker/admin/admin-options.ts';
import { isRecord } from '../protocol/index.ts';

export const ADMIN_REQUEST_TIMEOUT_MS = 10_000;

export interface AdminTarget {
  readonly url: string;
  readonly token?: string;
  readonly ca?: Buffer;
}

export interface AdminReply {
  readonly status: number;
  readonly body: unknown;
}

/** An answer of the admin API that is an error: `{ error: { code, message } }`. */
export class AdminApiError extends Error {
  override readonly name = 'AdminApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message} (HTTP ${status})`);
  }
}

export function adminTargetFrom(
  flags: { url?: string | undefined; token?: string | undefined; ca?: string | undefined },
  env: NodeJS.ProcessEnv,
): AdminTarget {
  const host = env.ADMIN_HOST?.trim() || DEFAULT_ADMIN_HOST;
  const port = env.ADMIN_PORT?.trim() || String(DEFAULT_ADMIN_PORT);
  const scheme = isLoopbackHost(host) ? 'http' : 'https';
  const connectHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const url =
    flags.url ?? `${scheme}://${connectHost.includes(':') ? `[${connectHost}]` : connectHost}:${port}`;
  const token = flags.token ?? (env.ADMIN_TOKEN?.trim() || undefined);
  return {
    url,
    ...(token !== undefined && { token }),
    ...(flags.ca !== undefined && { ca: readFileSync(flags.ca) }),
  };
}

/** Sends one request; resolves with the JSON answer, rejects with AdminApiError for an error answer. */
export function callAdmin(
  target: AdminTarget,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  const url = new URL(path, target.url);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        timeout: ADMIN_REQUEST_TIMEOUT_MS,
        ...(target.ca !== undefined && { ca: target.ca }),
        headers: {
          accept: 'application/json',
          ...(payload !== undefined && { 'content-type': 'application/json' }),
          ...(target.token !== undefined && { authorization: `Bearer ${target.token}` }),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text) as unknown;
          } catch {
            // /metrics is text; anything else that is not JSON is reported as it came
          }
          if (status >= 200 && status < 300) return resolve(parsed);
          const error = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : {};
          reject(
            new AdminApiError(
              status,
              typeof error.code === 'string' ? error.code : 'ERR_HTTP',
              typeof error.message === 'string' ? error.message : text.slice(0, 200),
            ),
          );
        });
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`no answer from ${url.origin} within ${ADMIN_REQUEST_TIMEOUT_MS} ms`)),
    );
    req.on('error', (error) =>
      reject(new Error(`cannot reach the admin listener at ${url.origin}: ${error.message}`)),
    );
    req.end(payload);
  });
}
