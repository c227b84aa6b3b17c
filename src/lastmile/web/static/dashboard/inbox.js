// The exceptions inbox (GET /v1/dispatch/exceptions): at-risk and late stops, failed
// deliveries, low ratings, unread chats, silent vehicles; each with the one-click actions the
// server says fit. The host page supplies what an action opens (chat, move dialog, details).
import { $, call, failed, h, toast } from './shell.js';
import { ago, time } from './format.js';

const KINDS = {
  at_risk: 'At risk', late: 'Late', failed: 'Failed', low_rating: 'Low rating',
  unread_chat: 'Unread chat', silent_vehicle: 'Not reporting',
};
const SEVERITY_CHIP = { high: 'bad', medium: 'warn', low: 'info' };
const RANK = { high: 0, medium: 1, low: 2 };

export class Inbox {
  /** host: {openChat(item), moveStop(item), reschedule(item), replanned(), changed()} */
  constructor(host) {
    this.host = host;
    this.items = [];
    this.date = null;
    this.loading = null;
    $('inbox-filter').addEventListener('change', () => this.render());
    $('notify-cancel').addEventListener('click', () => $('notify-dialog').close());
    $('notify-form').addEventListener('submit', (event) => { event.preventDefault(); this.notify(); });
  }

  async load(date) {
    this.date = date;
    try {
      const inbox = await call('GET', `/v1/dispatch/exceptions?date=${date}`);
      if (date !== this.date) return;
      this.items = inbox.items;
      this.render();
    } catch (error) {
      failed(error, 'Could not load the exceptions');
    }
  }

  render() {
    const floor = $('inbox-filter').value, limit = floor ? RANK[floor] : 2;
    const shown = this.items.filter((item) => RANK[item.severity] <= limit);
    $('inbox').replaceChildren(...shown.map((item) => this.row(item)));
    $('inbox-empty').hidden = shown.length > 0;
    $('inbox-count').textContent = String(this.items.length);
    $('kpi-exceptions').textContent = String(this.items.length);
  }

  row(item) {
    const act = (code, label, fn, primary = false) => item.actions.includes(code)
      ? h('button', { type: 'button', class: `button button--small ${primary ? 'button--primary' : ''}`,
        dataset: { action: code }, onclick: fn }, label)
      : null;
    return h('li', { class: 'inbox-item', dataset: { key: item.key, kind: item.kind,
      severity: item.severity } },
    h('div', { class: 'inbox-item__top' },
      h('span', { class: `chip chip--${SEVERITY_CHIP[item.severity] || 'info'}` },
        h('span', { class: 'dot' }), KINDS[item.kind] || item.kind),
      h('time', { class: 'muted', datetime: item.since, title: time(item.since) },
        ago(item.since))),
    h('button', { type: 'button', class: 'inbox-item__title link-button',
      onclick: () => this.host.show(item) }, item.title),
    h('p', { class: 'muted inbox-item__detail' }, item.detail),
    h('div', { class: 'inbox-item__actions' },
      act('move_stop', 'Move stop', () => this.host.moveStop(item), item.kind !== 'unread_chat'),
      act('open_chat', 'Chat', () => this.host.openChat(item), item.kind === 'unread_chat'),
      act('replan_route', 'Re-plan route', () => this.replan(item)),
      act('reschedule', 'Reschedule', () => this.host.reschedule(item)),
      act('notify_customer', 'Notify', () => this.openNotify(item)),
      act('acknowledge', 'Acknowledge', () => this.acknowledge(item))));
  }

  async acknowledge(item) {
    try {
      await call('POST', `/v1/dispatch/exceptions/${encodeURIComponent(item.key)}/acknowledge`,
        { json: {} });
      this.items = this.items.filter((i) => i.key !== item.key);
      this.render();
      toast('Acknowledged. It comes back if the problem changes.', 'ok');
    } catch (error) {
      failed(error, 'Not acknowledged');
      this.load(this.date);
    }
  }

  async replan(item) {
    try {
      const result = await call('POST', `/v1/routes/${encodeURIComponent(item.route_id)}/replan`,
        { json: {} });
      toast(result.changed ? `Route re-planned: ${result.distance_km_after.toFixed(1)} km left `
        + `(was ${result.distance_km_before.toFixed(1)} km).` : 'The route is already in the best order.',
      'ok');
      await this.host.changed();
    } catch (error) {
      failed(error, 'Not re-planned');
    }
  }

  openNotify(item) {
    this.notifying = item;
    $('notify-title').textContent = item.order_reference || item.order_id;
    $('notify-text').value = item.kind === 'at_risk' || item.kind === 'late'
      ? 'Sorry, your delivery is running late today. We will keep you posted here.'
      : '';
    $('notify-dialog').showModal();
  }

  async notify() {
    const item = this.notifying, message = $('notify-text').value.trim();
    if (!item || !message) return;
    try {
      await call('POST', `/v1/dispatch/orders/${encodeURIComponent(item.order_id)}/notify`,
        { json: { message } });
      $('notify-dialog').close();
      toast('Message sent to the customer.', 'ok');
    } catch (error) {
      failed(error, 'Not sent');
    }
  }
}
