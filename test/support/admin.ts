// Calls to a broker's admin listener over real HTTP(S), bounded by a timeout.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface AdminAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly text: string;
  readonly contentType: string;
}

export interface AdminCall {
  readonly method?: string;
  readonly body?: unknown;
  readonly token?: string;
  readonly ca?: Buffer;
  readonly contentType?: string;
  /** A Host header other than the URL's. */
  readonly host?: string;
  readonly timeoutMs?: number;
}

export function adminCall(baseUrl: string, path: string, call: AdminCall = {}): Promise<AdminAnswer> {
  const url = new URL(path, baseUrl);
  const payload = call.body === undefined ? undefined : JSON.stringify(call.body);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: call.method ?? (payload === undefined ? 'GET' : 'POST'),
        timeout: call.timeoutMs ?? 5000,
        ...(call.ca !== undefined && { ca: call.ca, servername: 'localhost' }),
        headers: {
          ...(payload !== undefined && { 'content-type': call.contentType ?? 'application/json' }),
          ...(call.token !== undefined && { authorization: `Bearer ${call.token}` }),
          ...(call.host !== undefined && { host: call.host }),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const contentType = response.headers['content-type'] ?? '';
          let body: unknown = text;
          if (contentType.startsWith('application/json')) body = JSON.parse(text) as unknown;
          resolve({ status: response.statusCode ?? 0, body, text, contentType });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`admin ${path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** The error code of a JSON error answer. */
export function errorCodeOf(answer: AdminAnswer): unknown {
  return (answer.body as { error?: { code?: unknown } }).error?.code;
}

/** Polls `probe` until it returns true, every 25 ms, for at most `timeoutMs`. */
export async function eventually(probe: () => boolean | Promise<boolean>, timeoutMs = 1000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
