// The certificate and key of the TLS and WSS listeners: TLS_CERT and TLS_KEY, or dev certificates made
// in CERTS_DIR. Read and checked before anything starts, so that a missing file, a file that is not
// PEM, or a key that does not match its certificate is one line naming the setting, not an OpenSSL
// stack trace from inside a listener.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { ensureDevCertificates } from '../../certs/dev-certs.ts';
import { CashewError } from '../../protocol/index.ts';
import type { Logger } from '../log/logger.ts';
import type { BrokerOptions, Setting } from '../options.ts';
import { readSettingFile } from '../setting-files.ts';
import type { TlsMaterial } from './listeners.ts';

interface Source {
  /** The setting to name for the certificate and for the key (CERTS_DIR for both in dev mode). */
  readonly certSetting: Setting;
  readonly keySetting: Setting;
  readonly certPath: string;
  readonly keyPath: string;
}

function unusable(setting: Setting, path: string, what: string, cause: unknown): CashewError {
  return new CashewError('ERR_CONFIG_INVALID', `${setting}: ${path} ${what}`, { cause });
}

/** Throws ERR_CONFIG_INVALID naming the setting when the PEM files cannot serve TLS together. */
export function checkTlsMaterial(material: TlsMaterial, source: Source): void {
  try {
    new X509Certificate(material.cert);
  } catch (cause) {
    throw unusable(source.certSetting, source.certPath, 'is not a PEM certificate', cause);
  }
  try {
    createPrivateKey(material.key);
  } catch (cause) {
    throw unusable(source.keySetting, source.keyPath, 'is not an unencrypted PEM private key', cause);
  }
  try {
    createSecureContext({ cert: material.cert, key: material.key });
  } catch (cause) {
    throw unusable(
      source.keySetting,
      source.keyPath,
      `does not match the certificate ${source.certPath}`,
      cause,
    );
  }
}

async function readChecked(source: Source): Promise<TlsMaterial> {
  const material = {
    cert: await readSettingFile(source.certSetting, source.certPath),
    key: await readSettingFile(source.keySetting, source.keyPath),
  };
  checkTlsMaterial(material, source);
  return material;
}

export async function loadTlsMaterial(options: BrokerOptions, logger: Logger): Promise<TlsMaterial> {
  if (options.tlsCert !== undefined && options.tlsKey !== undefined) {
    return readChecked({
      certSetting: 'TLS_CERT',
      keySetting: 'TLS_KEY',
      certPath: options.tlsCert,
      keyPath: options.tlsKey,
    });
  }
  const { paths, created } = await ensureDevCertificates(options.certsDir);
  if (created)
    logger.warn({ ca: paths.ca }, 'generated dev certificates; clients verify the server with this CA');
  return readChecked({
    certSetting: 'CERTS_DIR',
    keySetting: 'CERTS_DIR',
    certPath: paths.cert,
    keyPath: paths.key,
  });
}
