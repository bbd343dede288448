// add a contact: `request_contact {contact}` stores the request and emits
// `<contact>/contact_requested {from}`; `accept_contact {contact}` (by the requested user) emits
// `<requester>/contact_approved {by}`; `get_contact_list` → `<userId>/contact_list {contacts}`.
import { isValidUserId } from '../../protocol/index.ts';
import { defineHandler, HandlerError } from '../index.ts';
import { acceptRequest, contactsOf, storeRequest } from './contacts-store.ts';

function contactOf(data: unknown): string {
  const contact =
    typeof data === 'object' && data !== null ? (data as Record<string, unknown>).contact : undefined;
  if (!isValidUserId(contact)) throw new HandlerError('BAD_CONTACT', 'data.contact must be a user id');
  return contact;
}

export default defineHandler({
  name: 'contacts',
  events: ['contact_requested', 'contact_approved', 'contact_list'],
  commands: {
    request_contact: async ({ userId, data, emit }) => {
      const contact = contactOf(data);
      if (contact === userId) throw new HandlerError('BAD_CONTACT', 'you cannot add yourself');
      storeRequest(userId, contact);
      await emit(contact, 'contact_requested', { from: userId });
      return { requested: contact };
    },
    accept_contact: async ({ userId, data, emit }) => {
      const requester = contactOf(data);
      if (!acceptRequest(requester, userId))
        throw new HandlerError('NO_SUCH_REQUEST', `${requester} did not ask to add you`);
      await emit(requester, 'contact_approved', { by: userId });
      return { accepted: requester };
    },
    get_contact_list: async ({ userId, emit }) => {
      const contacts = contactsOf(userId);
      await emit(userId, 'contact_list', { contacts });
      return { contacts };
    },
  },
});
