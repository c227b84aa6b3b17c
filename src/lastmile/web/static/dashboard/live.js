// Live operations (/dashboard): KPIs, exceptions inbox, live map, route board and the day's
// orders, kept current by the fleet's event stream (GET /v1/live/fleet) without reloading.
import { $, all, call, failed, h, ready, session, setLive, toast } from './shell.js';
import { VEHICLE_TYPES, ago, dayOf, longDay, number, setZone, span, time, words } from './format.js';
import { renderBoard } from './board.js';
import { ChatPanel } from './chat.js';
import { FleetMap, ROUTE_COLOURS, boardRoutes } from './fleetmap.js';
import { Inbox } from './inbox.js';
import { MoveDialog } from './move.js';
import { OrderTable } from './orders.js';

const SILENT_MS = 10 * 60e3; // no fix for this long: the vehicle "stopped reporting"
const MOVING_MPS = 1; // faster than walking pace: driving
const TICK_MS = 30e3; // ages and the board's "now" line move on even without events

const state = {
  date: null, board: [], routes: new Map(), stops: new Map(), vehicles: new Map(),
  positions: new Map(), depots: new Map(), places: new Map(), selected: null,
};
let map, inbox, orders, chat, mover, stream;

// --- derived states --------------------------------------------------------------------------

/** What a stop looks like on the map and board: done / failed / at risk / its live state. */
function stopState(stop) {
  if (stop.status === 'departed') {
    return stop.orders.some((o) => o.status === 'failed') ? 'failed' : 'departed';
  }
  if (stop.at_risk || stop.late) return 'at_risk';
  return stop.status;
}

function vehicleStatus(vehicleId, now = Date.now()) {
  const route = state.board.find((r) => r.vehicle.id === vehicleId && r.status !== 'completed');
  const fix = state.positions.get(vehicleId);
  if (route && route.status === 'in_progress') {
    const last = fix ? Date.parse(fix.at) : route.last_fix_at && Date.parse(route.last_fix_at);
    if (!last || now - last > SILENT_MS) return 'silent';
    if (route.at_risk + route.late > 0) return 'at_risk';
  }
  if (!fix) return 'idle';
  return (fix.speed_mps || 0) > MOVING_MPS ? 'moving' : 'stopped';
}

function recount(route) {
  const deliveries = route.stops.filter((s) => s.kind === 'stop');
  route.stops_total = deliveries.length;
  route.stops_done = deliveries.filter((s) => s.status === 'departed').length;
  route.at_risk = deliveries.filter((s) => s.status !== 'departed' && s.at_risk && !s.late).length;
  route.late = deliveries.filter((s) => s.status !== 'departed' && s.late).length;
  for (const s of route.stops) s.state = stopState(s);
  route.vehicle_status = vehicleStatus(route.vehicle.id);
}

const routeLabel = (routeId) => {
  const r = state.routes.get(routeId);
  return r ? `${r.vehicle.name}${r.driver ? ` · ${r.driver.name}` : ''}` : routeId;
};

// --- loading -----------------------------------------------------------------------------

async function loadBoard() {
  const date = state.date;
  const [board, features] = await Promise.all([
    call('GET', `/v1/dispatch/board?date=${date}`),
    call('GET', `/v1/dispatch/map?date=${date}`),
  ]);
  if (date !== state.date) return;
  state.board = board.routes;
  state.routes = new Map(board.routes.map((r) => [r.route_id, r]));
  state.stops = new Map();
  board.routes.forEach((route, i) => {
    route.colour = ROUTE_COLOURS[i % ROUTE_COLOURS.length];
    for (const stop of route.stops) state.stops.set(stop.stop_id, { route, stop });
    recount(route);
  });
  const depots = [], points = [];
  for (const f of features.features) {
    const p = f.properties, [lon, lat] = f.geometry.coordinates;
    if (p.feature === 'depot') depots.push({ id: p.depot_id, name: p.name, kind: p.depot_kind, lat, lon });
    if (p.feature === 'pickup_point' && p.active) {
      points.push({ id: p.pickup_point_id, name: p.name, kind: p.point_kind, lat, lon });
    }
  }
  state.depots = new Map(depots.map((d) => [d.id, d]));
  state.places = new Map(points.map((p) => [p.id, p]));
  map.setPlaces(depots, points);
  map.setRoutes(boardRoutes(state.board, features));
  orders.setRoutes(state.board.map((r) => ({ route_id: r.route_id, label: routeLabel(r.route_id) })));
  drawBoard();
  drawVehicles();
  kpis();
}

async function loadFleet() {
  const [vehicles, positions] = await Promise.all([
    all('/v1/vehicles'), call('GET', '/v1/fleet/positions'),
  ]);
  state.vehicles = new Map(vehicles.map((v) => [v.id, v]));
  for (const p of positions) state.positions.set(p.vehicle_id, p);
}

async function loadDay(date) {
  state.date = date;
  $('ops-date').value = date;
  $('ops-date-label').textContent = longDay(date);
  $('ops').dataset.state = 'loading';
  try {
    await loadBoard();
    $('ops').dataset.state = 'ready';
  } catch (error) {
    failed(error, 'Could not load the board');
  }
  await Promise.all([inbox.load(date), orders.load(date)]);
}

// --- drawing -----------------------------------------------------------------------------

let boardQueued = false;
function drawBoard() {
  if (boardQueued) return;
  boardQueued = true;
  requestAnimationFrame(() => {
    boardQueued = false;
    renderBoard($('board'), state.board, { onSelect: select });
    $('board-empty').hidden = state.board.length > 0;
  });
}

function drawVehicles() {
  for (const [id, fix] of state.positions) {
    const v = state.vehicles.get(id);
    if (!v) continue;
    map.setVehicle(id, fix.lat, fix.lon, { name: v.name, type: v.type, status: vehicleStatus(id) });
  }
}

function kpis() {
  const active = state.board.filter((r) => r.status === 'in_progress').length;
  const total = state.board.reduce((n, r) => n + r.stops_total, 0);
  const done = state.board.reduce((n, r) => n + r.stops_done, 0);
  const risk = state.board.reduce((n, r) => n + r.at_risk + r.late, 0);
  $('kpi-vehicles').replaceChildren(String(active), h('small', {}, ` / ${state.board.length}`));
  $('kpi-stops').replaceChildren(String(done), h('small', {}, ` / ${total}`));
  $('kpi-risk').textContent = String(risk);
}

// --- details panel -----------------------------------------------------------------------

function facts(rows) {
  return h('dl', { class: 'facts' }, rows.filter((r) => r[1] !== null && r[1] !== undefined)
    .flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

function openDetails(kind, title, sub, ...body) {
  $('chat').hidden = true;
  $('details').hidden = false;
  $('details').dataset.kind = kind;
  $('details-kind').textContent = kind;
  $('details-title').textContent = title;
  $('details-sub').textContent = sub || '';
  $('details-body').replaceChildren(...body.flat().filter(Boolean));
}

function closeDetails() {
  $('details').hidden = true;
  state.selected = null;
  map.select(null);
}

function routeFacts(route) {
  return facts([
    ['Driver', route.driver ? route.driver.name : 'No driver'],
    ['Vehicle', `${VEHICLE_TYPES[route.vehicle.type] || route.vehicle.type}${route.vehicle.electric ? ' (electric)' : ''}`],
    ['Status', words(route.status)],
    ['Shift', span(route.starts_at, route.ends_at)],
    ['Stops done', `${route.stops_done} of ${route.stops_total}`],
    ['At risk / late', `${route.at_risk} / ${route.late}`],
    ['Distance', `${number(route.distance_km, 1)} km`],
    ['CO₂', `${number(route.co2_kg, 1)} kg`],
    ['Last fix', ago((state.positions.get(route.vehicle.id) || {}).at || route.last_fix_at)],
  ]);
}

function routeActions(route) {
  if (route.status === 'completed') return null;
  return h('div', { class: 'panel-actions' },
    h('button', { type: 'button', class: 'button', onclick: () => replan(route.route_id) },
      'Re-plan rest of route'));
}

function showVehicle(id) {
  const v = state.vehicles.get(id), fix = state.positions.get(id);
  const route = state.board.find((r) => r.vehicle.id === id);
  if (fix) map.focus(fix.lat, fix.lon);
  openDetails('Vehicle', v ? v.name : id, v ? VEHICLE_TYPES[v.type] || v.type : '',
    facts([
      ['Status', words(vehicleStatus(id))],
      ['Speed', fix ? `${number((fix.speed_mps || 0) * 3.6)} km/h` : null],
      ['Battery', fix && fix.battery !== null ? `${Math.round(fix.battery * 100)} %` : null],
      ['Last fix', fix ? `${time(fix.at)} (${ago(fix.at)})` : 'No position yet'],
    ]),
    route ? [h('h3', {}, 'Route today'), routeFacts(route), routeActions(route)]
      : h('p', { class: 'muted' }, 'No route on this day.'));
}

function showRoute(id) {
  const route = state.routes.get(id);
  if (!route) return;
  openDetails('Route', route.vehicle.name, route.driver ? route.driver.name : '',
    routeFacts(route), routeActions(route));
}

function showStop(id) {
  const found = state.stops.get(id);
  if (!found) return;
  const { route, stop } = found;
  map.focus(stop.lat, stop.lon);
  const movable = stop.kind === 'stop' && stop.status === 'pending' && route.status !== 'completed';
  openDetails('Stop', `Stop ${stop.position} · ${route.vehicle.name}`, words(stop.state),
    facts([
      ['Planned', span(stop.planned_arrival, stop.planned_departure)],
      ['ETA', stop.eta_expected ? `${time(stop.eta_expected)} (${span(stop.eta_earliest, stop.eta_latest)})` : null],
      ['Promised', span(stop.promised_start, stop.promised_end)],
      ['Arrived', stop.arrived_at ? time(stop.arrived_at) : null],
      ['Left', stop.departed_at ? time(stop.departed_at) : null],
      ['Slack', `${Math.round(stop.slack_s / 60)} min`],
    ]),
    h('h3', {}, 'Orders'),
    h('ul', { class: 'panel-list' }, stop.orders.map((o) => h('li', {},
      h('span', {}, o.reference || o.order_id, ' ', h('span', { class: 'chip' }, words(o.status))),
      h('button', { type: 'button', class: 'button button--small',
        onclick: () => chat.open(o.order_id, o.reference || o.order_id) }, 'Chat')))),
    movable ? h('div', { class: 'panel-actions' },
      h('button', { type: 'button', class: 'button button--primary', dataset: { action: 'move_stop' },
        onclick: () => moveStop(route.route_id, stop.stop_id) }, 'Move to another vehicle'))
      : null);
}

function showPlace(kind, place) {
  openDetails(kind === 'depot' ? 'Hub' : 'Locker', place.name, words(place.kind),
    facts([['Position', `${place.lat.toFixed(5)}, ${place.lon.toFixed(5)}`]]));
}

async function showOrder(order) {
  const w = order.windows[0], a = order.address || {};
  const slots = h('div', { class: 'slots' }, h('p', { class: 'muted' }, 'Loading slots…'));
  openDetails('Order', order.merchant_reference || order.id, words(order.status),
    facts([
      ['Address', [a.line1, a.postcode, a.city].filter(Boolean).join(', ')],
      ['Window', w ? span(w.start, w.end) : 'None'],
      ['Route', order.route_id ? routeLabel(order.route_id) : 'Not on a route'],
      ['Method', words(order.delivery_method)],
      ['Parcels', String(order.parcels.length)],
    ]),
    h('div', { class: 'panel-actions' },
      h('button', { type: 'button', class: 'button', onclick: () => chat.open(order.id,
        order.merchant_reference || order.id) }, 'Chat with customer'),
      order.stop_id && state.stops.has(order.stop_id)
        ? h('button', { type: 'button', class: 'button', onclick: () => select('stop', order.stop_id) },
          'Show stop') : null),
    h('h3', {}, 'Reschedule'), slots);
  await fillSlots(slots, order.id);
}

async function fillSlots(box, orderId) {
  let offers;
  try {
    offers = await call('GET', `/v1/orders/${encodeURIComponent(orderId)}/slots?days=3`);
  } catch (error) {
    box.replaceChildren(h('p', { class: 'muted' }, `No slots: ${error.message}`));
    return;
  }
  const open = offers.filter((o) => o.feasible || o.booked).slice(0, 8);
  box.replaceChildren(...(open.length ? open.map((o) => h('div', { class: 'slot' },
    h('span', {}, `${longDay(o.service_date)} ${span(o.starts_at, o.ends_at)}`,
      o.green ? h('span', { class: 'chip chip--ok' }, 'green') : null),
    o.booked ? h('span', { class: 'chip chip--info' }, 'Booked')
      : h('button', { type: 'button', class: 'button button--small', onclick: async () => {
        try {
          await call('POST', `/v1/orders/${encodeURIComponent(orderId)}/slot`, { json: { slot_id: o.id } });
          toast('Rescheduled.', 'ok');
          await refreshAll();
        } catch (error) { failed(error, 'Not rescheduled'); }
      } }, 'Book'))) : [h('p', { class: 'muted' }, 'No free slot in the next days.')]));
}

function select(kind, id) {
  state.selected = { kind, id };
  map.select(kind, id);
  if (kind === 'vehicle') showVehicle(id);
  else if (kind === 'stop') showStop(id);
  else if (kind === 'route') showRoute(id);
  else if (kind === 'depot') showPlace('depot', state.depots.get(id));
  else if (kind === 'place') showPlace('place', state.places.get(id));
}

// --- actions -----------------------------------------------------------------------------

function moveStop(routeId, stopId) {
  const found = state.stops.get(stopId);
  if (!found) { toast('That stop is not on the board any more.', 'warn'); return; }
  const refs = found.stop.orders.map((o) => o.reference || o.order_id).join(', ');
  mover.open({
    routeId, stopId, title: `Stop ${found.stop.position} of ${found.route.vehicle.name}`,
    sub: `${refs} · promised ${span(found.stop.promised_start, found.stop.promised_end)}`,
    targets: state.board.filter((r) => r.route_id !== routeId && r.status !== 'completed')
      .map((r) => ({ route_id: r.route_id, label: `${routeLabel(r.route_id)} (${r.stops_total} stops)` })),
  });
}

async function replan(routeId) {
  try {
    const result = await call('POST', `/v1/routes/${encodeURIComponent(routeId)}/replan`, { json: {} });
    toast(result.changed ? `Re-planned: ${number(result.distance_km_after, 1)} km left (was `
      + `${number(result.distance_km_before, 1)} km).` : 'Already in the best order.', 'ok');
    await refreshAll();
  } catch (error) {
    failed(error, 'Not re-planned');
  }
}

async function refreshAll() {
  await loadBoard().catch((error) => failed(error, 'Could not load the board'));
  await Promise.all([inbox.load(state.date), orders.load(state.date)]);
  if (state.selected && !$('details').hidden) select(state.selected.kind, state.selected.id);
}

// --- live updates ------------------------------------------------------------------------

/** Runs `fn` at most once per `ms`, trailing: bursts of events cost one reload. */
function debounce(fn, ms) {
  let timer = null;
  return () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
}
const reloadBoard = debounce(() => loadBoard().catch(() => {}), 400);
const reloadInbox = debounce(() => inbox.load(state.date), 600);
const reloadOrders = debounce(() => orders.load(state.date), 800);

const handlers = {
  position(p) {
    state.positions.set(p.vehicle_id, p);
    const v = state.vehicles.get(p.vehicle_id);
    if (!v) return;
    map.setVehicle(p.vehicle_id, p.lat, p.lon, { name: v.name, type: v.type,
      status: vehicleStatus(p.vehicle_id) });
    if (state.selected && state.selected.kind === 'vehicle' && state.selected.id === p.vehicle_id) {
      showVehicle(p.vehicle_id);
    }
  },
  stop(e) {
    const found = state.stops.get(e.stop_id);
    if (!found) return reloadBoard();
    found.stop.status = e.status;
    if (e.status === 'arrived') found.stop.arrived_at = e.at;
    if (e.status === 'departed') found.stop.departed_at = e.at;
    recount(found.route);
    map.setStopState(e.stop_id, found.stop.state);
    drawBoard(); kpis(); reloadInbox(); reloadOrders();
    return undefined;
  },
  eta(e) {
    const route = state.routes.get(e.route_id);
    if (!route) return;
    for (const eta of e.stops) {
      const found = state.stops.get(eta.stop_id);
      if (!found) continue;
      Object.assign(found.stop, { eta_expected: eta.expected, eta_earliest: eta.earliest,
        eta_latest: eta.latest, at_risk: eta.at_risk });
      map.setStopState(eta.stop_id, stopState(found.stop));
    }
    recount(route);
    map.setVehicleStatus(route.vehicle.id, route.vehicle_status);
    drawBoard(); kpis();
  },
  at_risk: () => reloadInbox(),
  route: () => { reloadBoard(); reloadInbox(); reloadOrders(); },
  order: () => { reloadOrders(); reloadInbox(); },
  order_changed: () => { reloadBoard(); reloadOrders(); reloadInbox(); },
  message: (e) => { chat.heard(e); reloadInbox(); },
  follow_up: () => reloadInbox(),
  proof: () => { reloadOrders(); reloadInbox(); },
};

function connect() {
  if (stream) stream.close();
  stream = new EventSource(`/v1/live/fleet?access_token=${encodeURIComponent(session.token)}`);
  let opened = false;
  stream.addEventListener('open', () => {
    setLive('open', 'Live');
    if (opened) refreshAll(); // whatever happened while the stream was down
    opened = true;
  });
  stream.addEventListener('error', () => {
    setLive('error', 'Reconnecting…');
    if (stream.readyState === EventSource.CLOSED) setTimeout(connect, 5000);
  });
  for (const [name, fn] of Object.entries(handlers)) {
    stream.addEventListener(name, (event) => fn(JSON.parse(event.data)));
  }
}

function tick() {
  for (const route of state.board) recount(route);
  for (const id of state.positions.keys()) map.setVehicleStatus(id, vehicleStatus(id));
  drawBoard();
}

// --- start -------------------------------------------------------------------------------

function tabs() {
  const pick = (which) => {
    for (const name of ['board', 'orders']) {
      $(`tab-${name}`).setAttribute('aria-selected', String(name === which));
      $(`panel-${name}`).hidden = name !== which;
    }
    $('board-legend').hidden = which !== 'board';
  };
  $('tab-board').addEventListener('click', () => pick('board'));
  $('tab-orders').addEventListener('click', () => pick('orders'));
}

async function start() {
  const main = $('main');
  const org = await call('GET', '/v1/organization');
  setZone(org.timezone);
  map = new FleetMap($('map'), { tileUrl: main.dataset.tileUrl,
    attribution: main.dataset.tileAttribution, onSelect: select });
  chat = new ChatPanel({ onRead: () => reloadInbox() });
  mover = new MoveDialog({ onMoved: refreshAll });
  inbox = new Inbox({
    show: (item) => (item.stop_id && state.stops.has(item.stop_id) ? select('stop', item.stop_id)
      : item.vehicle_id ? select('vehicle', item.vehicle_id) : null),
    openChat: (item) => chat.open(item.order_id, item.order_reference || item.order_id),
    moveStop: (item) => moveStop(item.route_id, item.stop_id),
    reschedule: async (item) => showOrder(await call('GET', `/v1/orders/${encodeURIComponent(item.order_id)}`)),
    changed: refreshAll,
  });
  orders = new OrderTable({
    routeLabel,
    eta: (order) => {
      const found = order.stop_id && state.stops.get(order.stop_id);
      return found ? { expected: found.stop.eta_expected, planned: found.stop.planned_arrival,
        at_risk: found.stop.at_risk || found.stop.late } : null;
    },
    openOrder: showOrder,
    openChat: (order) => chat.open(order.id, order.merchant_reference || order.id),
  });
  $('details-close').addEventListener('click', closeDetails);
  $('ops-date').addEventListener('change', () => {
    if ($('ops-date').value) loadDay($('ops-date').value);
  });
  tabs();
  const asked = new URLSearchParams(location.search).get('date');
  await loadFleet().catch((error) => failed(error, 'Could not load the fleet'));
  await loadDay(/^\d{4}-\d{2}-\d{2}$/.test(asked || '') ? asked : dayOf(new Date()));
  connect();
  setInterval(tick, TICK_MS);
}

ready().then(start);
