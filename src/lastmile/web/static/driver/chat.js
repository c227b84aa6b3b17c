// The conversations with the customers of today's orders (GET /v1/orders/{id}/messages): unread
// counts for the stop list, whole conversations for the stops the driver opens, kept current
// by the live stream's `message` and `read` events. Sending is an outbox action (actions.js).
import { ApiError, Unreachable, call } from './api.js';

const PARALLEL = 4; // conversations read at once when the live stream (re)opens
const QUICK_REPLIES = 'lastmile.driver.quick-replies'; // kept for offline use
const url = (orderId) => `/v1/orders/${encodeURIComponent(orderId)}/messages`;

/** Runs ``work`` and swallows what the network or the API answered (the caller reads again). */
async function quietly(work) {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ApiError || error instanceof Unreachable) return null;
    throw error;
  }
}

// ``changes`` counts live events applied, so a read that started before one is not applied.
const blank = () => ({
  messages: [], read: { customer: 0, staff: 0 }, unread: 0, open: true, whole: false,
  reading: false, changes: 0,
});

export class Chats extends EventTarget {
  constructor() {
    super();
    this.threads = new Map(); // order id → conversation, whole or only its last message
    this.quickReplies = JSON.parse(localStorage.getItem(QUICK_REPLIES) || '[]');
  }

  thread(orderId) {
    if (!this.threads.has(orderId)) this.threads.set(orderId, blank());
    return this.threads.get(orderId);
  }

  unread(orderId) { return this.threads.has(orderId) ? this.threads.get(orderId).unread : 0; }

  emit() { this.dispatchEvent(new Event('change')); }

  clear() {
    this.threads.clear();
    this.emit();
  }

  /** Reads the quick replies (codes and the driver's texts) once per login. */
  async loadQuickReplies() {
    const answer = await quietly(() => call('GET', '/v1/chat/quick-replies?language=en'));
    if (!answer) return;
    this.quickReplies = answer.data;
    localStorage.setItem(QUICK_REPLIES, JSON.stringify(answer.data));
    this.emit();
  }

  /**
   * Reads the state of ``orderIds``' conversations and forgets other orders': only the last
   * message (for the unread count), or all of those the driver has opened.
   */
  async sync(orderIds) {
    const wanted = new Set(orderIds);
    for (const id of this.threads.keys()) if (!wanted.has(id)) this.threads.delete(id);
    const queue = [...wanted];
    const worker = async () => {
      for (let id = queue.shift(); id; id = queue.shift()) await this.readThread(id);
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    this.emit();
  }

  async readThread(orderId, whole = this.thread(orderId).whole) {
    for (;;) {
      const before = this.thread(orderId).changes;
      const answer = await quietly(() => call('GET', `${url(orderId)}?limit=${whole ? 500 : 1}`));
      if (!answer) return;
      const thread = this.thread(orderId);
      // An event came while reading: the answer may predate it, so read again.
      if (thread.changes !== before) continue;
      const { messages, read, unread, open } = answer.data;
      Object.assign(thread, { messages, read, unread, open, whole });
      return;
    }
  }

  /** The whole conversation, for the stop on screen. */
  async load(orderId) {
    await this.readThread(orderId, true);
    this.emit();
  }

  /** A message from the live stream or the answer to a sent one. */
  received(orderId, message) {
    const thread = this.thread(orderId);
    const last = thread.messages.at(-1);
    // A thread read whole lacks only new messages; one read with its last message only has
    // every earlier one in its count already.
    const known = thread.whole ? thread.messages.some((m) => m.seq === message.seq)
      : last && message.seq <= last.seq;
    if (known) return;
    thread.changes += 1;
    thread.messages.push(message);
    thread.messages.sort((a, b) => a.seq - b.seq);
    if (message.side === 'customer' && message.seq > thread.read.staff) thread.unread += 1;
    this.emit();
  }

  /** A side's read receipt moved (``staff``: this driver on any phone, or dispatch). */
  async readMoved(orderId, side, upTo) {
    const thread = this.thread(orderId);
    thread.changes += 1;
    thread.read[side] = Math.max(thread.read[side], upTo);
    if (side === 'staff') {
      if (thread.whole) {
        thread.unread = thread.messages
          .filter((m) => m.side === 'customer' && m.seq > thread.read.staff).length;
      } else {
        await this.readThread(orderId); // the messages in between are not on the phone
      }
    }
    this.emit();
  }

  /** Tells the customer the driver has read everything so far. */
  async markRead(orderId) {
    const thread = this.thread(orderId);
    const last = thread.messages.at(-1);
    if (!thread.unread || !last || thread.reading) return;
    thread.reading = true;
    const answer = await quietly(() => call('POST', `${url(orderId)}/read`,
      { json: { up_to: last.seq } }));
    thread.reading = false;
    if (answer) await this.readMoved(orderId, 'staff', answer.data.up_to);
  }
}
