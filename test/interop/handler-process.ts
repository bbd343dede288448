// A Cashew handler as its own process, started the way an operator runs one: its least-privilege
// token in CASHEW_TOKEN, the broker in CASHEW_URL, the CA in CASHEW_CA (test/support/processes.ts).
import { TEST_CERTS_DIR, type TestBroker } from '../support/broker.ts';
import { startHandlerProcess, type ChildHandle } from '../support/processes.ts';

export function startHandlerWithToken(
  broker: TestBroker,
  module: string,
  token: string,
): Promise<ChildHandle> {
  return startHandlerProcess(module, {
    url: broker.mqttsUrl,
    env: { CASHEW_TOKEN: token, CASHEW_CA: `${TEST_CERTS_DIR}/ca.crt` },
  });
}
