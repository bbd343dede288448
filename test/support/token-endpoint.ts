// A stand-in for an identity provider's OAuth2 token endpoint (Auth0's POST /oauth/token): a real
// loopback HTTP server implementing the client-credentials grant (RFC 6749, 4.4), issuing short-lived
// handler tokens signed with the key the test gives, counting requests, refusing bad client secrets.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';

export interface TokenEndpointOptions {
  readonly clientId: string;
  readonly clientSecret: string;
  /** Required `audience` of the request, when set (Auth0 requires one). */
  readonly audience?: string;
  /** The claims of every token issued (e.g. `{ handler: { name, commands, events } }`). */
  readonly claims: Record<string, unknown>;
  readonly secret: jwt.Secret;
  readonly algorithm?: jwt.Algorithm;
  /** Lifetime of each token, seconds. */
  readonly expiresInSec: number;
}

export interface TokenEndpoint {
  /** `http://127.0.0.1:<port>/oauth/token` */
  readonly url: string;
  /** Requests answered with a token. */
  readonly issued: number;
  /** Requests refused (bad credentials, grant or audience). */
  readonly refused: number;
  /** Signs the tokens issued from now on with another key (an IdP misconfigured, a key swapped). */
  signWith(secret: jwt.Secret): void;
  close(): Promise<void>;
}

async function formOf(request: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 16 * 1024) break;
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if ((request.headers['content-type'] ?? '').startsWith('application/json'))
    return new URLSearchParams(JSON.parse(text) as Record<string, string>);
  return new URLSearchParams(text);
}

function send(response: ServerResponse, status: number, body: Record<string, unknown>): void {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}

export async function startTokenEndpoint(options: TokenEndpointOptions): Promise<TokenEndpoint> {
  let issued = 0;
  let refused = 0;
  let secret = options.secret;
  const server = createServer((request, response) => {
    if (request.method !== 'POST' || request.url !== '/oauth/token')
      return send(response, 404, { error: 'not_found' });
    void formOf(request).then(
      (form) => {
        if (form.get('grant_type') !== 'client_credentials') {
          refused += 1;
          return send(response, 400, { error: 'unsupported_grant_type' });
        }
        if (
          form.get('client_id') !== options.clientId ||
          form.get('client_secret') !== options.clientSecret
        ) {
          refused += 1;
          return send(response, 401, { error: 'access_denied', error_description: 'Unauthorized' });
        }
        if (options.audience !== undefined && form.get('audience') !== options.audience) {
          refused += 1;
          return send(response, 403, { error: 'access_denied', error_description: 'Service not found' });
        }
        issued += 1;
        const access_token = jwt.sign({ ...options.claims, jti: `t${issued}` }, secret, {
          algorithm: options.algorithm ?? 'HS256',
          expiresIn: options.expiresInSec,
        });
        send(response, 200, { access_token, token_type: 'Bearer', expires_in: options.expiresInSec });
      },
      () => send(response, 400, { error: 'invalid_request' }),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/oauth/token`,
    get issued() {
      return issued;
    },
    get refused() {
      return refused;
    },
    signWith: (next) => {
      secret = next;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
