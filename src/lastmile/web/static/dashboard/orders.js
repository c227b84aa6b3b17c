// The day's order table: GET /v1/orders for the date (and status, which the API filters),
// then the route and free-text filters in the page (the API has neither).
import { $, all, failed, h } from './shell.js';
import { ORDER_STATUS_CHIP, span, time, words } from './format.js';

export class OrderTable {
  /** host: {routeLabel(routeId), eta(order), openOrder(order), openChat(order)} */
  constructor(host) {
    this.host = host;
    this.orders = [];
    this.date = null;
    $('order-search').addEventListener('input', () => this.render());
    $('order-route').addEventListener('change', () => this.render());
    $('order-status').addEventListener('change', () => this.load(this.date));
    $('order-filters').addEventListener('submit', (event) => event.preventDefault());
  }

  async load(date) {
    this.date = date;
    const status = $('order-status').value;
    const query = `service_date=${date}${status ? `&status=${status}` : ''}`;
    try {
      const orders = await all(`/v1/orders?${query}`);
      if (date !== this.date || status !== $('order-status').value) return;
      this.orders = orders;
      this.render();
    } catch (error) {
      failed(error, 'Could not load the orders');
    }
  }

  /** The route filter's choices: [{route_id, label}]. */
  setRoutes(routes) {
    const select = $('order-route'), chosen = select.value;
    select.replaceChildren(h('option', { value: '' }, 'Any route'),
      h('option', { value: 'none' }, 'Not on a route'),
      ...routes.map((r) => h('option', { value: r.route_id }, r.label)));
    select.value = [...select.options].some((o) => o.value === chosen) ? chosen : '';
  }

  matches(order) {
    const route = $('order-route').value;
    if (route === 'none' && order.route_id) return false;
    if (route && route !== 'none' && order.route_id !== route) return false;
    const text = $('order-search').value.trim().toLowerCase();
    if (!text) return true;
    const a = order.address || {};
    return [order.id, order.merchant_reference, a.line1, a.line2, a.postcode, a.city, order.zone]
      .some((v) => v && String(v).toLowerCase().includes(text));
  }

  render() {
    const shown = this.orders.filter((o) => this.matches(o));
    $('orders-count').textContent = String(this.orders.length);
    $('orders-body').replaceChildren(...shown.slice(0, 500).map((o) => this.row(o)));
    $('orders-empty').hidden = shown.length > 0;
  }

  row(order) {
    const a = order.address || {}, w = order.windows[0];
    const eta = this.host.eta(order);
    return h('tr', { dataset: { order: order.id, status: order.status } },
      h('td', {}, h('button', { type: 'button', class: 'link-button',
        onclick: () => this.host.openOrder(order) }, order.merchant_reference || order.id)),
      h('td', {}, h('span', { class: `chip chip--${ORDER_STATUS_CHIP[order.status] || ''}` },
        words(order.status))),
      h('td', {}, [a.line1, a.city].filter(Boolean).join(', ')),
      h('td', { class: 'num' }, w ? span(w.start, w.end) : '–'),
      h('td', {}, order.route_id ? this.host.routeLabel(order.route_id) : '–'),
      h('td', { class: `num ${eta && eta.at_risk ? 'is-risk' : ''}` },
        eta ? time(eta.expected || eta.planned) : '–'),
      h('td', {}, h('button', { type: 'button', class: 'button button--small',
        onclick: () => this.host.openChat(order) }, 'Chat')));
  }
}
