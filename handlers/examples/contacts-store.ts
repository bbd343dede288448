// The contacts store shared by the contact handlers of one process: requests and accepted contacts.
// In-process (a Map): a handler process that runs both `contacts` commands and `get_contact_list`
// sees one store. Replace with a database for several processes.

const requests = new Map<string, Set<string>>(); // to → from
const contacts = new Map<string, Set<string>>();

function setOf(map: Map<string, Set<string>>, key: string): Set<string> {
  let set = map.get(key);
  if (set === undefined) {
    set = new Set();
    map.set(key, set);
  }
  return set;
}

export function storeRequest(from: string, to: string): void {
  setOf(requests, to).add(from);
}

/** Accepts `from`'s request to `to`; false when there was none. */
export function acceptRequest(from: string, to: string): boolean {
  if (!setOf(requests, to).delete(from)) return false;
  setOf(contacts, from).add(to);
  setOf(contacts, to).add(from);
  return true;
}

export function contactsOf(userId: string): string[] {
  return [...setOf(contacts, userId)].sort();
}
