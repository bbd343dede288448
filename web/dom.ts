// Small DOM helpers for the demo page. Data from the network is only ever set as text, never as HTML.

/** The element with this id; the page is static, so a missing one is a bug in index.html. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`index.html has no #${id}`);
  return element as T;
}

/** A compact, readable rendering of any JSON value. */
export function describe(data: unknown): string {
  if (typeof data === 'string') return data;
  const text = JSON.stringify(data);
  return text === undefined ? String(data) : text;
}

export function listItem(text: string, testId?: string): HTMLLIElement {
  const item = document.createElement('li');
  item.textContent = text;
  if (testId !== undefined) item.dataset.testid = testId;
  return item;
}

export function clear(element: HTMLElement): void {
  element.replaceChildren();
}

/** Shows a problem in the alert banner (or hides it with `undefined`). */
export function showProblem(message: string | undefined): void {
  const banner = byId('problem');
  banner.textContent = message ?? '';
  banner.hidden = message === undefined;
}

export function showStatus(state: string, text: string): void {
  const status = byId('status');
  status.className = `status ${state}`;
  status.dataset.state = state;
  status.textContent = text;
}
