// One client id per app install, so that one device keeps one persistent session on the broker
// instead of leaving a new one (with its queue) behind on every run. The id is a random suffix kept
// in a storage the app provides: browsers' `localStorage` by default, React Native's AsyncStorage
// (async) when passed; Node has none by default (give `clientIdSuffix` or a storage).
import type { SdkLogger } from './logger.ts';

/** The subset of `localStorage` and React Native's `AsyncStorage` the SDK uses. */
export interface DeviceStorage {
  getItem(key: string): string | null | Promise<string | null>;
  setItem(key: string, value: string): void | Promise<void>;
}

export const DEVICE_ID_KEY = 'cashew.deviceId';

/** 16 hex characters: one topic level, no `/ + #`. */
const DEVICE_ID = /^[0-9a-f]{16}$/;

/** The platform's storage, when it has one: `localStorage` in browsers. */
export function defaultDeviceStorage(): DeviceStorage | undefined {
  try {
    const storage = (globalThis as { localStorage?: DeviceStorage }).localStorage;
    return storage ?? undefined;
  } catch {
    return undefined; // a browser that refuses storage access (privacy settings) throws on read
  }
}

export function newDeviceId(): string {
  const bytes = new Uint8Array(8);
  const crypto = (globalThis as { crypto?: { getRandomValues?(array: Uint8Array): Uint8Array } }).crypto;
  if (crypto?.getRandomValues !== undefined) crypto.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i += 1) bytes[i] = Math.floor(Math.random() * 256);
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * The install's device id from `storage`, made and stored on first use. Without a storage, or when
 * it fails, a fresh id for this run (logged: the session will not be found again).
 */
export async function deviceIdOf(storage: DeviceStorage | undefined, logger?: SdkLogger): Promise<string> {
  if (storage === undefined) return newDeviceId();
  try {
    const stored = await storage.getItem(DEVICE_ID_KEY);
    if (stored !== null && DEVICE_ID.test(stored)) return stored;
    const id = newDeviceId();
    await storage.setItem(DEVICE_ID_KEY, id);
    return id;
  } catch (error) {
    logger?.warn({ err: String(error) }, 'device id storage failed; this run gets a new client id');
    return newDeviceId();
  }
}
