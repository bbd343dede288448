// MQTT fixed headers as bytes, for tests that write raw packets (the packet-size guard's).

/** MQTT's Remaining Length encoding of `length` (1–4 bytes; a larger length gets more, as a bad peer's would). */
export function remainingLength(length: number): number[] {
  const bytes: number[] = [];
  let rest = length;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    bytes.push(byte);
  } while (rest > 0);
  return bytes;
}

/** A fixed header declaring a packet of type `type` with `length` body bytes. */
export function fixedHeader(type: number, length: number): Buffer {
  return Buffer.from([type << 4, ...remainingLength(length)]);
}
