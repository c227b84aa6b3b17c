// The chat side panel: the order's conversation with its customer through the staff chat API
// (GET/POST /v1/orders/{id}/messages). Messages sent here go out as "Dispatch".
import { $, call, failed, h } from './shell.js';
import { time } from './format.js';

const SENDERS = { customer: 'Customer', driver: 'Driver', dispatcher: 'Dispatch' };

export class ChatPanel {
  constructor({ onRead } = {}) {
    this.orderId = null;
    this.onRead = onRead || (() => {});
    $('chat-close').addEventListener('click', () => this.close());
    $('chat-form').addEventListener('submit', (event) => { event.preventDefault(); this.send(); });
  }

  async open(orderId, title) {
    this.orderId = orderId;
    $('chat-title').textContent = title || orderId;
    $('chat-sub').textContent = '';
    $('chat').hidden = false;
    $('chat').dataset.order = orderId;
    await this.load();
    $('chat-input').focus();
  }

  close() {
    this.orderId = null;
    $('chat').hidden = true;
  }

  async load() {
    const orderId = this.orderId;
    if (!orderId) return;
    let view;
    try {
      view = await call('GET', `/v1/orders/${encodeURIComponent(orderId)}/messages`);
    } catch (error) {
      failed(error, 'Could not load the chat');
      return;
    }
    if (orderId !== this.orderId) return; // another chat was opened meanwhile
    $('chat-log').replaceChildren(...view.messages.map((m) => h('li', {
      class: `bubble ${m.side === 'staff' ? 'bubble--mine' : ''}`, dataset: { seq: m.seq } },
    m.body, h('span', { class: 'bubble__meta' },
      `${SENDERS[m.sender.role] || m.sender.role}${m.sender.name ? ` ${m.sender.name}` : ''} · `
      + `${time(m.created_at)}${m.side === 'staff' && m.read ? ' · read' : ''}`))));
    $('chat-empty').hidden = view.messages.length > 0;
    $('chat-sub').textContent = view.open ? '' : 'This conversation is closed.';
    $('chat-input').disabled = !view.open;
    $('chat-send').disabled = !view.open;
    const log = $('chat-log').parentElement;
    log.scrollTop = log.scrollHeight;
    if (view.unread > 0) {
      await call('POST', `/v1/orders/${encodeURIComponent(orderId)}/messages/read`, { json: {} })
        .then(() => this.onRead(orderId)).catch(() => {});
    }
  }

  async send() {
    const input = $('chat-input'), body = input.value.trim();
    if (!body || !this.orderId) return;
    $('chat-send').disabled = true;
    try {
      await call('POST', `/v1/orders/${encodeURIComponent(this.orderId)}/messages`,
        { json: { body } });
      input.value = '';
      await this.load();
    } catch (error) {
      failed(error, 'Message not sent');
    } finally {
      $('chat-send').disabled = false;
    }
  }

  /** A live `message` event: reload when it is about the open conversation. */
  heard(event) {
    if (event && event.order_id === this.orderId) this.load();
  }
}
