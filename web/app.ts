// The Cashew demo web app: a stand-in for a mobile app, built on the client SDK. Sign in as a dev user,
// ask for apples, send and accept contact requests between two users, and watch events arrive live.
import { connect, type CashewClient, type ConnectionState } from '../client-sdk/index.ts';
import { byId, clear, describe, listItem, showProblem, showStatus } from './dom.ts';
import { explainConnectError, expiredMessage, fetchDevToken, isExpired } from './session.ts';

/** The events this page observes, each shown in the event log as it arrives. */
const EVENTS = [
  'got_apples',
  'got_more_apples',
  'contact_requested',
  'contact_approved',
  'contact_list',
  'pong',
] as const;
const REQUEST_TIMEOUT_MS = 5000;

let client: CashewClient | undefined;
let token = '';

/** Stable per browser tab, so a reload resumes the same broker session and two tabs never collide. */
function clientIdSuffix(): string {
  const saved = sessionStorage.getItem('cashew-client-suffix');
  if (saved !== null) return saved;
  const suffix = `web-${Math.random().toString(36).slice(2, 10)}`;
  sessionStorage.setItem('cashew-client-suffix', suffix);
  return suffix;
}

function brokerUrl(): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/mqtt`;
}

function logEvent(name: string, data: unknown): void {
  const item = listItem(`${new Date().toLocaleTimeString()}  ${name}  ${describe(data)}`, 'event');
  item.dataset.event = name;
  byId('events').prepend(item);
}

function showSignedIn(signedIn: boolean): void {
  byId('sign-in').hidden = signedIn;
  byId('app').hidden = !signedIn;
}

async function signOut(problem?: string): Promise<void> {
  const closing = client;
  client = undefined;
  showSignedIn(false);
  showStatus('closed', 'Not signed in');
  showProblem(problem);
  await closing?.close();
}

function onState(state: ConnectionState, error?: { code: string }): void {
  if (client === undefined) return;
  if (state === 'offline' && isExpired(token)) return void signOut(expiredMessage(token));
  if (error?.code === 'ERR_NOT_AUTHORIZED')
    return void signOut(isExpired(token) ? expiredMessage(token) : explainConnectError(error));
  const who = `${client.userId} (client id ${client.clientId})`;
  const texts: Record<ConnectionState, string> = {
    online: `Connected as ${who}`,
    offline: `Offline, reconnecting as ${who}…`,
    connecting: `Connecting as ${who}…`,
    closed: 'Not signed in',
  };
  showStatus(state, texts[state]);
}

/** Apples come as `{ source, apples: [{ colour, variety }] }` (a reply or a `got_more_apples` event). */
function renderApples(data: unknown): void {
  const { source, apples } = (typeof data === 'object' && data !== null ? data : {}) as {
    source?: unknown;
    apples?: unknown;
  };
  const list = byId('apples');
  for (const apple of Array.isArray(apples) ? apples : [data]) {
    const { colour, variety } = (typeof apple === 'object' && apple !== null ? apple : {}) as {
      colour?: unknown;
      variety?: unknown;
    };
    const text = typeof variety === 'string' ? `${variety} (${String(colour)})` : describe(apple);
    const item = listItem(`${text} from ${typeof source === 'string' ? source : 'a handler'}`, 'apple');
    list.append(item);
  }
}

function renderApproval(data: unknown): void {
  const by = typeof data === 'object' && data !== null ? (data as { by?: unknown }).by : undefined;
  if (typeof by === 'string')
    byId('contact-approvals').append(listItem(`${by} accepted your request`, 'contact-approved'));
}

function renderContactRequest(data: unknown): void {
  const from = typeof data === 'object' && data !== null ? (data as { from?: unknown }).from : undefined;
  if (typeof from !== 'string') return;
  const item = listItem(`${from} wants to be your contact`, 'contact-request');
  item.dataset.from = from;
  const accept = document.createElement('button');
  accept.type = 'button';
  accept.textContent = 'Accept';
  accept.dataset.testid = 'accept-contact';
  accept.addEventListener('click', () => {
    accept.disabled = true;
    void run(async (active) => {
      await active.request('accept_contact', { contact: from }, { timeout: REQUEST_TIMEOUT_MS });
      item.textContent = `${from} is now your contact`;
      item.dataset.accepted = 'true';
    });
  });
  item.append(accept);
  byId('contact-requests').append(item);
}

function renderContactList(data: unknown): void {
  const list = byId('contacts');
  clear(list);
  const contacts =
    typeof data === 'object' && data !== null && Array.isArray((data as { contacts?: unknown }).contacts)
      ? (data as { contacts: unknown[] }).contacts
      : Array.isArray(data)
        ? data
        : [];
  for (const contact of contacts) list.append(listItem(describe(contact), 'contact'));
}

/** Runs an action with the signed-in client; a failure is shown in the banner. */
async function run(action: (active: CashewClient) => Promise<void>): Promise<void> {
  if (client === undefined) return;
  showProblem(undefined);
  try {
    await action(client);
  } catch (error) {
    const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
    showProblem(
      `${error instanceof Error ? error.message : String(error)}${typeof code === 'string' ? ` (${code})` : ''}`,
    );
  }
}

async function signIn(obtainToken: () => Promise<string>): Promise<void> {
  showProblem(undefined);
  try {
    token = await obtainToken();
  } catch (error) {
    showProblem(error instanceof Error ? error.message : String(error));
    return;
  }
  if (isExpired(token)) return showProblem(expiredMessage(token));
  showStatus('connecting', 'Connecting…');
  try {
    client = await connect({
      url: brokerUrl(),
      getToken: () => token,
      clientIdSuffix: clientIdSuffix(),
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
    });
  } catch (error) {
    showStatus('closed', 'Not signed in');
    showProblem(isExpired(token) ? expiredMessage(token) : explainConnectError(error));
    return;
  }
  client.onState(onState);
  onState(client.state);
  showSignedIn(true);
  for (const event of EVENTS) {
    await client.observe(event, (data) => {
      logEvent(event, data);
      if (event === 'got_more_apples') renderApples(data);
      if (event === 'contact_approved') renderApproval(data);
      if (event === 'contact_requested') renderContactRequest(data);
      if (event === 'contact_list') renderContactList(data);
    });
  }
  document.body.dataset.ready = 'true';
}

function onSubmit(id: string, handle: (form: HTMLFormElement) => Promise<void>): void {
  const form = byId<HTMLFormElement>(id);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void handle(form);
  });
}

onSubmit('dev-sign-in', async () => {
  const user = byId<HTMLInputElement>('user-id').value.trim();
  const ttl = Number(byId<HTMLInputElement>('ttl').value);
  await signIn(async () => (await fetchDevToken(user, ttl)).token);
});
onSubmit('token-sign-in', () => signIn(() => Promise.resolve(byId<HTMLInputElement>('token').value.trim())));
onSubmit('request-contact', () =>
  run(async (active) => {
    const contact = byId<HTMLInputElement>('contact-id').value.trim();
    await active.request('request_contact', { contact }, { timeout: REQUEST_TIMEOUT_MS });
    byId('contact-sent').append(listItem(`You asked ${contact}`, 'contact-sent'));
  }),
);
byId('get-apples').addEventListener('click', () => {
  void run(async (active) =>
    renderApples(await active.request('get_apples', {}, { timeout: REQUEST_TIMEOUT_MS })),
  );
});
byId('more-apples').addEventListener('click', () => {
  void run((active) => active.publish('more_apples', {}));
});
byId('get-contact-list').addEventListener('click', () => {
  void run(async (active) =>
    renderContactList(await active.request('get_contact_list', {}, { timeout: REQUEST_TIMEOUT_MS })),
  );
});
byId('sign-out').addEventListener('click', () => void signOut());
