// The home screen: the route of the day, the shift and load-out state, the stops in order.
import { $, METHODS, languageName, make, plural, setText } from './dom.js';
import { isClosed } from './projection.js';

/** The route the driver works on now: the first one not completed (or the last one). */
export function currentRoute(view) {
  if (!view || !view.routes.length) return null;
  return view.routes.find((route) => route.status !== 'completed') || view.routes.at(-1);
}

const parcels = (stop) => stop.orders.reduce((n, order) => n + order.parcels.length, 0);

/** One word for where a stop stands, and the tone its chip gets. */
export function stopState(stop) {
  if (stop.kind === 'reload') return ['Reload', 'muted'];
  const outcomes = stop.orders.map((order) => order.status);
  if (stop.orders.length && stop.orders.every(isClosed)) {
    if (outcomes.every((s) => s === 'delivered')) return ['Delivered', 'ok'];
    if (outcomes.every((s) => s === 'failed')) return ['Failed', 'bad'];
    return ['Done', 'ok'];
  }
  if (stop.status === 'arrived') return ['Arrived', 'brand'];
  if (outcomes.includes('arriving')) return ['Next', 'brand'];
  return ['To do', 'muted'];
}

function flags(stop, changed, unread) {
  const out = [];
  const orders = stop.orders;
  if (orders.length) out.push(plural(parcels(stop), 'parcel'));
  for (const method of new Set(orders.map((o) => o.delivery_method))) out.push(METHODS[method]);
  if (orders.some((o) => o.signature_required)) out.push('Signature');
  if (orders.some((o) => o.age_check)) out.push('18+ ID check');
  for (const lang of new Set(orders.map((o) => o.customer_language).filter(Boolean))) {
    out.push(languageName(lang));
  }
  const chips = out.map((label) => make('span', label, 'flag'));
  if (orders.some((o) => changed.has(o.id))) {
    chips.unshift(make('span', 'Updated', 'flag flag--new'));
  }
  const messages = orders.reduce((n, o) => n + unread(o.id), 0);
  if (messages) chips.unshift(make('span', plural(messages, 'new message'), 'flag flag--chat'));
  if (stop.queued || orders.some((o) => o.queued)) {
    chips.push(make('span', 'Not sent yet', 'flag flag--queued'));
  }
  return chips;
}

function stopItem(stop, clock, changed, unread) {
  const li = $('stop-item').content.firstElementChild.cloneNode(true);
  const [label, tone] = stopState(stop);
  li.dataset.stop = stop.id;
  li.dataset.state = label.toLowerCase().replace(/ /g, '-');
  const link = li.querySelector('.stop__link');
  if (stop.kind === 'reload') {
    link.removeAttribute('href');
  } else {
    link.href = `#stop/${stop.id}`;
  }
  li.querySelector('.stop__number').textContent = String(stop.position);
  li.querySelector('.stop__time').textContent = clock.time(stop.planned_arrival);
  const chip = li.querySelector('.stop__status');
  chip.textContent = label;
  chip.dataset.tone = tone;
  const name = stop.orders.map((o) => o.customer_first_name).filter(Boolean).join(', ');
  li.querySelector('.stop__label').textContent = stop.kind === 'reload'
    ? 'Back to the depot to reload' : [name, stop.label].filter(Boolean).join(' · ');
  const eta = stop.eta_earliest && stop.eta_latest
    ? `ETA ${clock.span(stop.eta_earliest, stop.eta_latest)}` : '';
  li.querySelector('.stop__eta').textContent = eta;
  li.querySelector('.stop__flags').replaceChildren(...flags(stop, changed, unread));
  return li;
}

function loadoutText(route) {
  const l = route.loadout;
  if (!l) return '';
  const loaded = `${l.expected - l.missing.length} of ${l.expected} loaded`;
  if (l.completed_at) {
    return l.missing.length ? `Finished · ${l.missing.length} missing` : `Finished · ${loaded}`;
  }
  return l.missing.length ? `${loaded} · ${l.missing.length} missing` : `${loaded} · ready`;
}

/**
 * Draws the home screen for ``view`` (projected route), ``shift`` (positions on?) and
 * ``unread(orderId)`` (the customer's messages the driver has not read).
 */
export function renderToday(view, { clock, changed, shift, savedAt, unread }) {
  const route = currentRoute(view);
  $('no-route').hidden = Boolean(route);
  $('stops').hidden = !route;
  setText($('route-date'), view ? clock.date(view.date) : '');
  $('saved-at').hidden = !savedAt;
  setText($('saved-at'), savedAt ? `Offline copy saved at ${clock.time(savedAt)}` : '');
  for (const id of ['start-shift', 'end-shift', 'shift-state', 'loadout-link']) $(id).hidden = true;
  if (!route) {
    setText($('route-summary'), '');
    return;
  }
  const deliveries = route.stops.filter((s) => s.kind !== 'reload');
  const done = deliveries.filter((s) => s.orders.length && s.orders.every(isClosed)).length;
  const vehicle = route.vehicle ? route.vehicle.name : '';
  setText($('route-summary'), [`${done} of ${plural(deliveries.length, 'stop')} done`,
    `${clock.span(route.starts_at, route.ends_at)}`, vehicle].filter(Boolean).join(' · '));
  const open = route.status !== 'completed';
  // Also offered on a route already under way (started by GPS, or on another phone).
  $('start-shift').hidden = !open || shift.running;
  $('shift-state').hidden = !open || !shift.running;
  $('end-shift').hidden = !open || !shift.running;
  setText($('shift-state'), shift.error || 'On shift · sharing your location');
  $('shift-state').dataset.tone = shift.running && !shift.error ? 'ok' : 'warn';
  const link = $('loadout-link');
  link.hidden = !route.loadout || route.status === 'completed';
  link.dataset.tone = route.loadout && route.loadout.missing.length ? 'warn' : 'ok';
  setText($('loadout-state'), loadoutText(route));
  $('stops').replaceChildren(...route.stops.map((stop) => stopItem(stop, clock, changed, unread)));
}
