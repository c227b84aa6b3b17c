// Planning (/dashboard/planning): choose a day's orders, run the optimiser (POST /v1/plans,
// progress from its event stream), compare the proposal with what is committed
// (GET /v1/plans/{id}/comparison), commit it, then adjust by moving stops between routes.
import { $, all, call, failed, h, ready, session, toast } from './shell.js';
import { dayOf, longDay, number, setZone, signed, span, words } from './format.js';
import { renderBoard } from './board.js';
import { FleetMap, ROUTE_COLOURS, boardRoutes } from './fleetmap.js';
import { MoveDialog } from './move.js';

const PLANNABLE = ['created', 'rescheduled'];
const MEASURES = [ // [key, label, digits, lower is better]
  ['vehicles', 'Vehicles', 0, true], ['orders', 'Orders planned', 0, false],
  ['distance_km', 'Distance (km)', 1, true], ['driving_h', 'Driving (h)', 1, true],
  ['duration_h', 'Route time (h)', 1, true], ['co2_kg', 'CO₂ (kg)', 1, true],
  ['cost', 'Cost', 0, true], ['tight_stops', 'Tight stops (< 10 min slack)', 0, true],
  ['unassigned', 'Unassigned orders', 0, true],
];
const state = { date: null, orders: [], chosen: new Set(), plan: null, board: [] };
let map, mover;

// --- orders --------------------------------------------------------------------------------

async function loadOrders() {
  const date = state.date;
  const orders = (await all(`/v1/orders?service_date=${date}`))
    .filter((o) => PLANNABLE.includes(o.status));
  if (date !== state.date) return;
  state.orders = orders;
  state.chosen = new Set(orders.map((o) => o.id));
  $('plan-all').checked = true;
  renderOrders();
}

function visibleOrders() {
  const text = $('plan-search').value.trim().toLowerCase();
  if (!text) return state.orders;
  return state.orders.filter((o) => [o.id, o.merchant_reference, o.zone, o.address.line1,
    o.address.postcode, o.address.city].some((v) => v && v.toLowerCase().includes(text)));
}

function renderOrders() {
  const shown = visibleOrders();
  $('plan-orders').replaceChildren(...shown.map((o) => {
    const w = o.windows[0];
    const box = h('input', { type: 'checkbox', checked: state.chosen.has(o.id),
      'aria-label': `Plan ${o.merchant_reference || o.id}` });
    box.addEventListener('change', () => {
      if (box.checked) state.chosen.add(o.id); else state.chosen.delete(o.id);
      $('plan-all').checked = state.chosen.size === state.orders.length;
      counts();
    });
    return h('tr', { dataset: { order: o.id } }, h('td', {}, box),
      h('td', {}, o.merchant_reference || o.id),
      h('td', {}, [o.address.line1, o.address.city].filter(Boolean).join(', ')),
      h('td', { class: 'num' }, w ? span(w.start, w.end) : '–'),
      h('td', { class: 'num' }, String(o.parcels.length)));
  }));
  $('plan-orders-empty').hidden = state.orders.length > 0;
  counts();
}

function counts() {
  $('plan-selected').textContent = `${state.chosen.size} of ${state.orders.length}`;
  $('plan-run').disabled = state.chosen.size === 0;
}

// --- the optimiser -----------------------------------------------------------------------

function progress(plan) {
  const pct = plan.status === 'succeeded' || plan.status === 'committed' ? 100
    : Math.round((plan.progress || 0) * 100);
  $('plan-progress').setAttribute('aria-valuenow', String(pct));
  $('plan-progress-bar').style.width = `${pct}%`;
  $('plan-status').textContent = words(plan.status);
  $('plan-status').className = `chip ${{ succeeded: 'chip--ok', failed: 'chip--bad',
    committed: 'chip--ok', running: 'chip--info', queued: 'chip--info' }[plan.status] || ''}`;
  $('plan').dataset.state = plan.status;
  const s = plan.summary;
  $('plan-message').textContent = plan.status === 'failed' ? plan.message || 'The plan failed.'
    : s ? `${s.assigned} of ${s.orders} orders on ${s.vehicles} vehicles · `
      + `${number(s.distance_km, 1)} km · ${number(s.co2_kg, 1)} kg CO₂`
      : plan.status === 'queued' ? 'Waiting for the optimiser…' : `Searching… ${pct} %`;
}

/** Follows the plan's event stream (fetch: EventSource cannot send the token) until done. */
async function follow(planId) {
  const response = await fetch(`/v1/plans/${encodeURIComponent(planId)}/events`, {
    headers: { Authorization: `Bearer ${session.token}`, Accept: 'text/event-stream' },
    cache: 'no-store' });
  if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = (block.match(/^event: (.*)$/m) || [])[1];
      const data = (block.match(/^data: (.*)$/m) || [])[1];
      if (data) progress(JSON.parse(data));
      if (event === 'done') { reader.cancel(); return; }
    }
  }
}

async function run(event) {
  event.preventDefault();
  const all_ = state.chosen.size === state.orders.length;
  const body = { service_date: state.date, time_limit_s: Number($('plan-budget').value) };
  if (!all_) body.order_ids = [...state.chosen];
  $('plan-run').disabled = true;
  $('compare').hidden = true;
  try {
    const plan = await call('POST', '/v1/plans', { json: body });
    progress(plan);
    await follow(plan.id).catch(() => toast('Lost the progress stream; checking the result.', 'warn'));
    const finished = await call('GET', `/v1/plans/${encodeURIComponent(plan.id)}`);
    progress(finished);
    if (finished.status === 'succeeded') await showProposal(finished);
  } catch (error) {
    failed(error, 'The optimiser could not start');
  } finally {
    $('plan-run').disabled = state.chosen.size === 0;
  }
}

// --- comparison and commit ---------------------------------------------------------------

async function showProposal(plan) {
  state.plan = plan;
  const cmp = await call('GET', `/v1/plans/${encodeURIComponent(plan.id)}/comparison`);
  $('compare-body').replaceChildren(...MEASURES.map(([key, label, digits, lowerBetter]) => {
    const d = cmp.delta[key] || 0, better = lowerBetter ? d < 0 : d > 0;
    return h('tr', { dataset: { measure: key } }, h('th', { scope: 'row' }, label),
      h('td', { class: 'num' }, number(cmp.current[key], digits)),
      h('td', { class: 'num' }, number(cmp.proposed[key], digits)),
      h('td', { class: `num delta-cell ${d === 0 ? '' : better ? 'is-better' : 'is-worse'}` },
        signed(d, digits)));
  }));
  $('compare-routes').replaceChildren(...cmp.routes.map((r) => {
    const side = r.proposed || r.current, d = r.delta || {};
    const cell = (key, digits) => h('td', { class: 'num' }, number(side[key], digits),
      d[key] ? h('small', { class: 'muted' }, ` (${signed(d[key], digits)})`) : null);
    return h('tr', {}, h('th', { scope: 'row' }, r.vehicle_name,
      r.proposed ? null : h('span', { class: 'chip' }, 'not used')),
    cell('stops', 0), cell('distance_km', 1), cell('duration_h', 1), cell('co2_kg', 1),
    cell('tight_stops', 0));
  }));
  const lost = plan.result.unassigned;
  $('unassigned').hidden = lost.length === 0;
  const refs = new Map(state.orders.map((o) => [o.id, o.merchant_reference || o.id]));
  $('unassigned-list').replaceChildren(...lost.map((u) => h('li', {},
    h('span', {}, refs.get(u.order_id) || u.order_id), h('span', { class: 'muted' }, u.detail))));
  $('compare').hidden = false;
  $('plan-commit').disabled = false;
  drawProposal(plan.result.routes);
}

function drawProposal(routes) {
  map.setRoutes(routes.map((r, i) => ({
    id: `proposed-${i}`, colour: ROUTE_COLOURS[i % ROUTE_COLOURS.length], geometry: r.geometry,
    stops: r.stops.filter((s) => s.kind === 'stop').map((s) => ({ id: `p${i}-${s.position}`,
      lat: s.lat, lon: s.lon, state: 'pending', number: s.position, title: `Stop ${s.position}` })),
  })));
  map.fit();
}

async function commit() {
  if (!state.plan) return;
  $('plan-commit').disabled = true;
  try {
    const plan = await call('POST', `/v1/plans/${encodeURIComponent(state.plan.id)}/commit`);
    progress(plan);
    toast('Plan committed: the drivers have their routes.', 'ok');
    $('compare').hidden = true;
    await Promise.all([loadOrders(), loadBoard()]);
  } catch (error) {
    failed(error, 'Not committed');
    $('plan-commit').disabled = false;
  }
}

// --- committed routes and adjusting them -------------------------------------------------

async function loadBoard() {
  const date = state.date;
  const [board, features] = await Promise.all([
    call('GET', `/v1/dispatch/board?date=${date}`), call('GET', `/v1/dispatch/map?date=${date}`)]);
  if (date !== state.date) return;
  state.board = board.routes;
  state.board.forEach((route, i) => {
    route.colour = ROUTE_COLOURS[i % ROUTE_COLOURS.length];
    route.vehicle_status = route.status === 'in_progress' ? 'moving' : 'idle';
    for (const s of route.stops) s.state = s.at_risk || s.late ? 'at_risk' : s.status;
  });
  renderBoard($('board'), state.board, { onSelect: adjust });
  $('board-empty').hidden = state.board.length > 0;
  if (!state.plan || state.plan.status === 'committed') {
    map.setRoutes(boardRoutes(state.board, features));
    map.fit();
  }
}

function adjust(kind, id) {
  if (kind !== 'stop') return;
  const route = state.board.find((r) => r.stops.some((s) => s.stop_id === id));
  const stop = route && route.stops.find((s) => s.stop_id === id);
  if (!stop || stop.kind !== 'stop' || stop.status !== 'pending') {
    toast('Only stops not yet reached can move.', 'warn');
    return;
  }
  mover.open({
    routeId: route.route_id, stopId: id,
    title: `Stop ${stop.position} of ${route.vehicle.name}`,
    sub: stop.orders.map((o) => o.reference || o.order_id).join(', '),
    targets: state.board.filter((r) => r.route_id !== route.route_id && r.status !== 'completed')
      .map((r) => ({ route_id: r.route_id, label: `${r.vehicle.name} (${r.stops_total} stops)` })),
  });
}

// --- start -------------------------------------------------------------------------------

async function loadDay(date) {
  state.date = date;
  state.plan = null;
  $('plan-date').value = date;
  $('plan-date-label').textContent = longDay(date);
  $('compare').hidden = true;
  await Promise.all([
    loadOrders().catch((error) => failed(error, 'Could not load the orders')),
    loadBoard().catch((error) => failed(error, 'Could not load the routes')),
  ]);
}

async function start() {
  const main = $('main');
  const org = await call('GET', '/v1/organization');
  setZone(org.timezone);
  map = new FleetMap($('map'), { tileUrl: main.dataset.tileUrl,
    attribution: main.dataset.tileAttribution, onSelect: adjust });
  mover = new MoveDialog({ onMoved: loadBoard });
  $('plan-form').addEventListener('submit', run);
  $('plan-commit').addEventListener('click', commit);
  $('plan-search').addEventListener('input', renderOrders);
  $('plan-all').addEventListener('change', () => {
    state.chosen = $('plan-all').checked ? new Set(state.orders.map((o) => o.id)) : new Set();
    renderOrders();
  });
  $('plan-date').addEventListener('change', () => {
    if ($('plan-date').value) loadDay($('plan-date').value);
  });
  const asked = new URLSearchParams(location.search).get('date');
  await loadDay(/^\d{4}-\d{2}-\d{2}$/.test(asked || '') ? asked : dayOf(new Date()));
}

ready().then(start);
