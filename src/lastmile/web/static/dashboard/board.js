// The route board: one row per route, its stops on a shared time axis. Each stop shows its
// promised window (band), ETA window (bar), planned arrival (tick) and actual arrival (dot);
// a stop at risk of missing its promise is drawn in the warning colour.
import { h } from './shell.js';
import { VEHICLE_TYPES, ago, span, time } from './format.js';

const HOUR = 3600e3;
const ICONS = '/static/dashboard/icons/';

/** The axis: whole hours around every time on the board (and now, when it falls inside). */
function axis(routes, now) {
  let lo = Infinity, hi = -Infinity;
  const take = (iso) => {
    if (!iso) return;
    const t = Date.parse(iso);
    lo = Math.min(lo, t); hi = Math.max(hi, t);
  };
  for (const r of routes) {
    take(r.starts_at); take(r.ends_at);
    for (const s of r.stops) {
      take(s.promised_start); take(s.promised_end); take(s.eta_latest); take(s.arrived_at);
    }
  }
  if (!Number.isFinite(lo)) return null;
  lo = Math.floor(lo / HOUR) * HOUR;
  hi = Math.ceil(hi / HOUR) * HOUR;
  if (hi - lo < 4 * HOUR) hi = lo + 4 * HOUR;
  return { lo, hi, now: now >= lo && now <= hi ? now : null };
}

const pct = (a, t) => `${((t - a.lo) / (a.hi - a.lo)) * 100}%`;
const width = (a, from, to) => `${(Math.max(0, to - from) / (a.hi - a.lo)) * 100}%`;

function bar(a, cls, from, to) {
  if (!from || !to) return null;
  const el = h('span', { class: cls });
  el.style.left = pct(a, Date.parse(from));
  el.style.width = width(a, Date.parse(from), Date.parse(to));
  return el;
}

function point(a, cls, at) {
  if (!at) return null;
  const el = h('span', { class: cls });
  el.style.left = pct(a, Date.parse(at));
  return el;
}

function stopGlyph(a, stop, onSelect) {
  const refs = stop.orders.map((o) => o.reference || o.order_id).join(', ');
  const label = [`Stop ${stop.position}`, refs, `planned ${time(stop.planned_arrival)}`,
    stop.eta_expected && `ETA ${span(stop.eta_earliest, stop.eta_latest)}`,
    stop.promised_start && `promised ${span(stop.promised_start, stop.promised_end)}`,
    stop.arrived_at && `arrived ${time(stop.arrived_at)}`].filter(Boolean).join(' · ');
  const el = h('button', { type: 'button', class: 'board-stop', title: label,
    'aria-label': label, dataset: { stop: stop.stop_id, state: stop.state },
    onclick: () => onSelect('stop', stop.stop_id) },
  bar(a, 'board-stop__promised', stop.promised_start, stop.promised_end),
  bar(a, 'board-stop__eta', stop.eta_earliest, stop.eta_latest),
  point(a, 'board-stop__planned', stop.planned_arrival),
  point(a, 'board-stop__actual', stop.arrived_at));
  el.classList.toggle('is-risk', !!stop.at_risk);
  return el;
}

function head(route, onSelect, now) {
  const v = route.vehicle, risky = route.at_risk + route.late;
  return h('div', { class: 'board-row__head' },
    h('span', { class: 'board-vehicle', dataset: { status: route.vehicle_status } },
      h('img', { src: `${ICONS}${VEHICLE_TYPES[v.type] ? v.type : 'van'}.svg`, alt: '' })),
    h('div', { class: 'board-row__who' },
      h('button', { type: 'button', class: 'link-button',
        onclick: () => onSelect('route', route.route_id) }, v.name),
      h('span', { class: 'muted' }, [route.driver ? route.driver.name : 'No driver',
        VEHICLE_TYPES[v.type] || v.type].join(' · ')),
      h('span', { class: 'board-row__meta' },
        h('span', { class: 'chip' }, `${route.stops_done}/${route.stops_total} stops`),
        risky ? h('span', { class: 'chip chip--warn' }, `${risky} at risk`) : null,
        route.status === 'in_progress'
          ? h('span', { class: `chip ${route.vehicle_status === 'silent' ? 'chip--bad' : ''}` },
            `fix ${ago(route.last_fix_at, now)}`)
          : h('span', { class: 'chip chip--info' }, route.status.replace('_', ' ')))));
}

/**
 * Draws the board's `routes` (GET /v1/dispatch/board, each stop with its display `state` and
 * each route with its `vehicle_status`, see live.js) into `root`.
 */
export function renderBoard(root, routes, { onSelect, now = Date.now() }) {
  const a = axis(routes, now);
  if (!a) { root.replaceChildren(); return; }
  const ticks = [];
  for (let t = a.lo; t <= a.hi; t += HOUR) {
    const tick = h('span', { class: 'board-tick' }, time(new Date(t).toISOString()));
    tick.style.left = pct(a, t);
    ticks.push(tick);
  }
  const rows = routes.map((route) => {
    const track = h('div', { class: 'board-track' },
      bar(a, 'board-shift', route.starts_at, route.ends_at),
      route.stops.map((s) => stopGlyph(a, s, onSelect)));
    return h('div', { class: 'board-row', dataset: { route: route.route_id } },
      head(route, onSelect, now), track);
  });
  const nowLine = a.now ? h('span', { class: 'board-now', 'aria-hidden': 'true' }) : null;
  if (nowLine) nowLine.style.left = pct(a, a.now);
  root.replaceChildren(
    h('div', { class: 'board-axis' }, h('span', { class: 'board-row__head' }),
      h('div', { class: 'board-ticks' }, ticks)),
    h('div', { class: 'board-rows' }, rows, h('div', { class: 'board-overlay' }, nowLine)));
}
