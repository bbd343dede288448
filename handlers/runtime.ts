// runHandler: connects one handler process to the broker, serves its commands, drains on stop.
import type { IClientOptions, IPublishPacket, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { BackoffOptions } from '../client-sdk/backoff.ts';
import { Connection, type TokenSource } from '../client-sdk/connection.ts';
import {
  CashewError,
  commandFilter,
  decodeCommand,
  encodeReply,
  HANDLER_CLIENT_ID_PREFIX,
  HandlerError,
  GRANT_ALL,
  isPresenceTopic,
  parseUserTopic,
  PRESENCE_FILTER,
  replyTopic,
  type ReplyEnvelope,
} from '../protocol/index.ts';
import type { CommandContext, Handler } from './define.ts';
import { processWithDeferredAck } from './deferred-ack.ts';
import { PresenceObservers, type PresenceListener } from './presence.ts';
import { explainHandlerToken, handlerRefusal } from './token-check.ts';
import { TokenRefresher } from '../client-sdk/token-refresh.ts';

export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;
export const DEFAULT_PUBLISH_TIMEOUT_MS = 10_000;

export interface RunOptions {
  readonly url: string;
  readonly getToken: TokenSource;
  readonly logger: Logger;
  /** mqtt.js options, e.g. `{ ca }`. */
  readonly mqtt?: IClientOptions;
  /** The client id is `$handler/<name>/<suffix>`; random per process by default. */
  readonly clientIdSuffix?: string;
  readonly connectTimeoutMs?: number;
  readonly backoff?: BackoffOptions;
  /** How long `stop()` waits for in-flight commands. */
  readonly drainTimeoutMs?: number;
  /** How long a reply or an event may wait for the broker's PUBACK. */
  readonly publishTimeoutMs?: number;
}

export interface RunningHandler {
  readonly clientId: string;
  /** Commands being processed now. */
  readonly inFlight: number;
  /**
   * Calls `listener` with every user's presence event (the token must grant `presence`); resolves
   * once the broker granted the subscription. The function returned stops observing.
   */
  observePresence(listener: PresenceListener): Promise<() => Promise<void>>;
  /** Unsubscribes (no new commands come), waits for in-flight ones, disconnects. */
  stop(): Promise<{ drained: boolean }>;
  /**
   * Settles only if the connection was given up for good — a token refused in a way no new token
   * from the source cures (expired, another handler's, a bad signature, refused client credentials).
   */
  readonly failed: Promise<CashewError>;
}

function publishWithin(
  client: MqttClient,
  topic: string,
  payload: string | Uint8Array,
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new CashewError('ERR_TIMEOUT', `no PUBACK for ${topic} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    client.publish(topic, payload as string, { qos: 1 }, (error) => {
      clearTimeout(timer);
      if (error === undefined || error === null) resolve();
      else reject(new CashewError('ERR_OFFLINE', error.message, { cause: error }));
    });
  });
}

function encodeData(data: unknown): string | Uint8Array {
  return data instanceof Uint8Array ? data : (JSON.stringify(data) ?? '');
}

function errorReply(id: string, error: unknown): ReplyEnvelope {
  if (error instanceof HandlerError)
    return { id, ok: false, error: { code: error.handlerCode, message: error.message } };
  if (error instanceof CashewError)
    return { id, ok: false, error: { code: error.code, message: error.message } };
  return { id, ok: false, error: { code: 'ERR_HANDLER', message: 'the handler failed the command' } };
}

export async function runHandler(handler: Handler, options: RunOptions): Promise<RunningHandler> {
  const { logger } = options;
  const suffix = options.clientIdSuffix ?? Math.random().toString(36).slice(2, 10);
  const clientId = `${HANDLER_CLIENT_ID_PREFIX}${handler.name}/${suffix}`;
  const publishTimeoutMs = options.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS;
  const events = new Set(handler.events);
  // The last token handed to the connection: what a refusal is explained by (token-check.ts).
  let lastToken: string | undefined;
  const getToken = async (): Promise<string> => (lastToken = await options.getToken());
  const connection = new Connection({
    url: options.url,
    getToken,
    clientIdFor: () => clientId,
    clean: true,
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    ...(options.backoff !== undefined && { backoff: options.backoff }),
    mqtt: { resubscribe: true, ...options.mqtt },
    logger,
  });
  connection.onState((state, error) =>
    logger.info({ state, ...(error && { code: error.code }) }, `handler ${state}`),
  );
  const client = await connection.open().catch((error: unknown) => {
    throw error instanceof CashewError && error.code === 'ERR_NOT_AUTHORIZED'
      ? handlerRefusal(lastToken, handler.name, error)
      : error;
  });
  let fail: (error: CashewError) => void = () => undefined;
  const failed = new Promise<CashewError>((resolve) => (fail = resolve));
  // The token is refreshed over the connection before it expires (docs/handlers.md#tokens).
  const refresher = new TokenRefresher({
    connection,
    getToken,
    timeoutMs: options.connectTimeoutMs ?? 10_000,
    logger,
    explain: (token) => explainHandlerToken(token, handler.name),
    onFatal: fail,
  });
  let inFlight = 0;
  let idle: (() => void) | undefined;

  async function emit(userId: string, event: string, data?: unknown): Promise<void> {
    if (!events.has(event) && !events.has(GRANT_ALL))
      throw new CashewError(
        'ERR_PUBLISH_NOT_AUTHORIZED',
        `event ${event} is not declared by ${handler.name}`,
      );
    await publishWithin(client, `${userId}/${event}`, encodeData(data), publishTimeoutMs);
  }
  const presence = new PresenceObservers(logger, emit);

  async function serve(packet: IPublishPacket): Promise<void> {
    if (isPresenceTopic(packet.topic)) return presence.dispatch(packet.payload as Buffer);
    const topic = parseUserTopic(packet.topic);
    const command = topic?.name;
    const serveCommand = command === undefined ? undefined : handler.commands[command];
    if (topic === undefined || serveCommand === undefined) {
      logger.warn({ topic: packet.topic }, 'message on a topic this handler does not serve');
      return;
    }
    const payload = packet.payload as Buffer;
    const { envelope } = decodeCommand(payload);
    const context: CommandContext = {
      userId: topic.userId,
      command: topic.name,
      data: envelope.data,
      payload,
      requestId: envelope.id,
      log: logger.child({ command: topic.name, userId: topic.userId }),
      emit,
    };
    const started = Date.now();
    let reply: ReplyEnvelope | undefined;
    try {
      const data: unknown = await serveCommand(context);
      if (envelope.id !== undefined) reply = { id: envelope.id, ok: true, data };
    } catch (error) {
      logger.warn(
        {
          command: topic.name,
          userId: topic.userId,
          err: error instanceof Error ? error.message : String(error),
        },
        'command failed',
      );
      if (envelope.id !== undefined) reply = errorReply(envelope.id, error);
    }
    if (reply !== undefined)
      await publishWithin(client, replyTopic(topic.userId, topic.name), encodeReply(reply), publishTimeoutMs);
    logger.debug({ command: topic.name, userId: topic.userId, ms: Date.now() - started }, 'command served');
  }

  processWithDeferredAck(
    client,
    async (packet) => {
      inFlight += 1;
      await serve(packet).catch((error: unknown) =>
        logger.error({ topic: packet.topic, err: String(error) }, 'reply not delivered'),
      );
    },
    () => {
      inFlight -= 1;
      if (inFlight === 0) idle?.();
    },
  );

  try {
    // One filter per SUBSCRIBE (mqtt.js fails a whole packet on one 0x80).
    for (const command of Object.keys(handler.commands)) await connection.subscribe(commandFilter(command));
    if (handler.presence !== undefined) {
      presence.add(handler.presence);
      await connection.subscribe(PRESENCE_FILTER);
    }
  } catch (error) {
    await connection.close();
    throw error;
  }
  logger.info(
    {
      clientId,
      commands: Object.keys(handler.commands),
      events: handler.events,
      presence: presence.size > 0,
    },
    'handler ready',
  );

  async function observePresence(listener: PresenceListener): Promise<() => Promise<void>> {
    const remove = presence.add(listener);
    try {
      if (presence.size === 1) await connection.subscribe(PRESENCE_FILTER);
    } catch (error) {
      remove();
      throw error;
    }
    return async () => {
      remove();
      if (presence.size === 0) await connection.unsubscribe(PRESENCE_FILTER).catch(() => undefined);
    };
  }

  async function stop(): Promise<{ drained: boolean }> {
    const timeoutMs = options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
    if (client.connected) {
      await Promise.race([
        Promise.all(
          [
            ...Object.keys(handler.commands).map(commandFilter),
            ...(presence.size > 0 ? [PRESENCE_FILTER] : []),
          ].map((filter) => connection.unsubscribe(filter)),
        ),
        new Promise((resolve) => setTimeout(resolve, timeoutMs).unref()),
      ]).catch(() => undefined);
    }
    const drained =
      inFlight === 0 ||
      (await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), timeoutMs);
        idle = () => {
          clearTimeout(timer);
          resolve(true);
        };
      }));
    logger.info({ drained, inFlight }, 'handler stopping');
    refresher.stop();
    await connection.close();
    return { drained };
  }

  return {
    clientId,
    get inFlight() {
      return inFlight;
    },
    observePresence,
    stop,
    failed,
  };
}
