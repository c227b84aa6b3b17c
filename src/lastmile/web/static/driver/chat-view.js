// The chat with an order's customer on the stop screen: the conversation (the customer's
// messages on the left, the driver's and dispatch's on the right with read ticks), quick
// replies and a text field. What waits in the outbox shows as "Not sent yet".
import { make, setText } from './dom.js';

function who(message) {
  if (message.side === 'customer') return message.sender.name || 'Customer';
  return message.sender.role === 'dispatcher' ? 'Dispatch' : '';
}

function bubble(message, thread, clock) {
  const mine = message.side === 'staff';
  const li = make('li', null, `msg ${mine ? 'msg--mine' : 'msg--theirs'}`);
  li.dataset.seq = String(message.seq);
  const name = who(message);
  if (name) li.append(make('span', name, 'msg__who'));
  li.append(make('p', message.body, 'msg__body'));
  const meta = make('span', clock.time(message.created_at), 'msg__meta');
  if (mine) {
    const read = message.seq <= thread.read.customer;
    li.dataset.read = String(read);
    const tick = make('span', read ? '✓✓' : '✓', 'msg__tick');
    tick.title = read ? 'Read' : 'Sent';
    tick.setAttribute('aria-label', tick.title);
    meta.append(' ', tick);
  }
  li.append(meta);
  return li;
}

function waiting(item) {
  const li = make('li', null, 'msg msg--mine msg--pending');
  li.append(make('p', item.effect.text, 'msg__body'), make('span', 'Not sent yet', 'msg__meta'));
  return li;
}

export class ChatPanel {
  /** ``say(payload, text)`` queues a message; ``chats`` holds the conversations (chat.js). */
  constructor(el, orderId, chats, say) {
    Object.assign(this, { el, orderId, chats, say, drawn: null, replies: null });
    this.input = el.querySelector('.chat__input');
    // Opening the panel reads the whole conversation; drawing it then marks it read.
    el.addEventListener('toggle', () => { if (el.open) chats.load(orderId); });
    el.querySelector('.chat__form').addEventListener('submit', (event) => {
      event.preventDefault();
      const body = this.input.value.trim();
      if (!body) {
        this.error('Write a message first.');
        return;
      }
      this.error('');
      this.input.value = '';
      this.say({ body }, body);
    });
  }

  error(message) {
    const el = this.el.querySelector('.chat__error');
    el.textContent = message;
    el.hidden = !message;
  }

  /** ``outgoing``: the outbox's messages waiting to be sent. */
  draw(order, { clock, outgoing }) {
    const thread = this.chats.thread(this.orderId);
    const el = this.el;
    setText(el.querySelector('.chat__title'),
      `Chat with ${order.customer_first_name || 'the customer'}`);
    const badge = el.querySelector('.chat__unread');
    badge.hidden = thread.unread === 0;
    setText(badge, `${thread.unread} new`);
    const pending = outgoing.filter((item) => item.subject.order_id === this.orderId);
    // Redrawn only when something in it changed, so the driver's scrolling is left alone.
    const last = thread.messages.at(-1);
    const state = [thread.messages.length, last && last.seq, thread.read.customer,
      ...pending.map((item) => item.seq)].join(':');
    if (state !== this.drawn) {
      this.drawn = state;
      const log = el.querySelector('.chat__log');
      log.replaceChildren(...thread.messages.map((m) => bubble(m, thread, clock)),
        ...pending.map(waiting));
      log.scrollTop = log.scrollHeight;
    }
    el.querySelector('.chat__empty').hidden = thread.messages.length + pending.length > 0;
    el.querySelector('.chat__closed').hidden = thread.open;
    el.querySelector('.chat__form').hidden = !thread.open;
    this.drawReplies(thread.open);
    if (el.open && document.visibilityState === 'visible') this.chats.markRead(this.orderId);
  }

  drawReplies(open) {
    const box = this.el.querySelector('.chat__quick');
    box.hidden = !open || !this.chats.quickReplies.length;
    if (this.replies === this.chats.quickReplies) return;
    this.replies = this.chats.quickReplies;
    box.replaceChildren(...this.replies.map(({ code, text }) => {
      const button = make('button', text, 'button chat__reply');
      button.type = 'button';
      button.dataset.code = code;
      button.addEventListener('click', () => this.say({ quick_reply: code }, text));
      return button;
    }));
  }
}
