// JSON in and out for the admin API: bodies bounded in size and time, errors as
// `{"error":{"code","message"}}` with the code from the catalogue (protocol/errors.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CashewError, type ErrorCode } from '../../protocol/index.ts';

export const MAX_BODY_BYTES = 16 * 1024;
export const BODY_TIMEOUT_MS = 5_000;

const STATUS: Partial<Record<ErrorCode, number>> = {
  ERR_ADMIN_UNAUTHORIZED: 401,
  ERR_ADMIN_BAD_REQUEST: 400,
  ERR_ADMIN_NOT_FOUND: 404,
  ERR_TOO_MANY_BANS: 409,
};

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}

export function sendError(
  response: ServerResponse,
  error: CashewError,
  status = STATUS[error.code] ?? 500,
): void {
  sendJson(response, status, { error: { code: error.code, message: error.message } });
}

export function badRequest(message: string): CashewError {
  return new CashewError('ERR_ADMIN_BAD_REQUEST', message);
}

/** The request's JSON body (an empty body is `{}`); rejects with ERR_ADMIN_BAD_REQUEST. */
export function readJsonBody(request: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => fail(badRequest('the body did not arrive in time')), BODY_TIMEOUT_MS);
    const fail = (error: CashewError): void => {
      clearTimeout(timer);
      request.removeAllListeners('data');
      request.resume();
      reject(error);
    };
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) return fail(badRequest(`the body is larger than ${MAX_BODY_BYTES} bytes`));
      chunks.push(chunk);
    });
    request.once('error', () => fail(badRequest('the body could not be read')));
    request.once('end', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve({});
      try {
        resolve(JSON.parse(text) as unknown);
      } catch {
        reject(badRequest('the body is not JSON'));
      }
    });
  });
}
