// The wire format shared by the SDK and the handler runtime (docs/protocol.md).
import { describe, expect, it } from 'vitest';
import {
  decodeCommand,
  decodeEvent,
  decodeReply,
  encodeCommand,
  encodeReply,
  HandlerError,
  replyFilter,
  replyTopic,
} from '../../protocol/index.ts';

describe('command envelope', () => {
  it('round-trips a request and a fire-and-forget command', () => {
    expect(decodeCommand(encodeCommand({ id: 'a-1', data: { n: 1 } }))).toEqual({
      envelope: { id: 'a-1', data: { n: 1 } },
      raw: false,
    });
    expect(decodeCommand(encodeCommand({ data: 'hi' }))).toEqual({ envelope: { data: 'hi' }, raw: false });
  });

  it('treats anything else as a raw command without a correlation id', () => {
    expect(decodeCommand(Buffer.from([0xff, 0x00]))).toEqual({ envelope: { data: undefined }, raw: true });
    expect(decodeCommand('{"id":7,"data":1}')).toEqual({ envelope: { data: { id: 7, data: 1 } }, raw: true });
    expect(decodeCommand('{"data":1,"extra":true}').raw).toBe(true);
    expect(decodeCommand('[1,2]')).toEqual({ envelope: { data: [1, 2] }, raw: true });
    expect(decodeCommand('')).toEqual({ envelope: { data: undefined }, raw: true });
  });
});

describe('reply envelope', () => {
  it('round-trips success and error replies', () => {
    const ok = { id: 'x-1', ok: true, data: [1] } as const;
    const failed = { id: 'x-2', ok: false, error: { code: 'NO_APPLES', message: 'empty' } } as const;
    expect(decodeReply(Buffer.from(encodeReply(ok)))).toEqual(ok);
    expect(decodeReply(encodeReply(failed))).toEqual(failed);
  });

  it('rejects malformed replies', () => {
    for (const text of ['', 'nope', '{"ok":true}', '{"id":"1","ok":false}', '{"id":"1","ok":"yes"}'])
      expect(decodeReply(text)).toBeUndefined();
  });

  it('addresses replies inside the requester partition', () => {
    expect(replyTopic('68946', 'get_apples')).toBe('68946/get_apples/reply');
    expect(replyFilter('68946')).toBe('68946/+/reply');
  });
});

describe('events and errors', () => {
  it('decodes JSON event data and hands non-JSON payloads over as bytes', () => {
    expect(decodeEvent('{"a":1}')).toEqual({ data: { a: 1 }, json: true });
    const bytes = Buffer.from([0xff, 0xfe]);
    expect(decodeEvent(bytes)).toEqual({ data: bytes, json: false });
  });

  it('HandlerError is an ERR_HANDLER carrying the handler code', () => {
    const error = new HandlerError('NO_APPLES', 'the basket is empty');
    expect(error).toMatchObject({ code: 'ERR_HANDLER', handlerCode: 'NO_APPLES', name: 'HandlerError' });
  });
});
