// Manage delivery on the tracking page: GET /v1/self-service/{token} says what the customer may
// change now and offers the choices; each button or form POSTs one change and redraws from the
// answer. tracking.js hands over each snapshot (lastmile:snapshot) and live change
// (lastmile:order_changed, lastmile:status); a change made here asks it to reload
// (lastmile:changed). All text goes in through textContent, never as HTML.
const root = document.getElementById('manage');
const $ = (id) => document.getElementById(id);
const lang = document.documentElement.lang || 'en';
const PLACES = {
  front_door: 'By the front door', back_door: 'By the back door', porch: 'In the porch',
  garage: 'In the garage', shed: 'In the shed', reception: 'At reception',
  neighbour: 'With a neighbour', other: 'Somewhere else (see the note)',
};
const KINDS = { locker: 'Parcel locker', pickup_point: 'Pick-up point' };

let view = null, status = null, day = null, busy = false, opened = false;
let latest = 0; // answers drawn must be the newest asked for: several loads can overlap
const pending = new Map(); // change -> Idempotency-Key, kept until answered (safe retries)

const make = (tag, cls, value) => Object.assign(document.createElement(tag),
  { className: cls, textContent: value ?? '' });
const fmt = (iso, opts) => new Intl.DateTimeFormat(lang, { timeZone: view.timezone, ...opts })
  .format(new Date(iso));
const clock = (iso) => fmt(iso, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const span = (w) => `${clock(w.starts_at)}–${clock(w.ends_at)}`;
const dayName = (date) => new Intl.DateTimeFormat(lang,
  { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' })
  .format(new Date(`${date}T12:00:00Z`));
const money = (amount, currency) => new Intl.NumberFormat(lang,
  { style: 'currency', currency }).format(Number(amount));
const metres = (m) => (m < 1000 ? `${Math.round(m / 10) * 10} m` : `${(m / 1000).toFixed(1)} km`);
const randomKey = () => Array.from(crypto.getRandomValues(new Uint8Array(16)),
  (b) => b.toString(16).padStart(2, '0')).join('');
const url = (path = '') => `${root.dataset.api}${path}`;
const editing = (el) => el.contains(document.activeElement);

function say(text, problem = false) {
  const el = $('manage-status');
  el.textContent = text;
  el.classList.toggle('is-problem', problem);
}

async function load() {
  const ticket = ++latest;
  const res = await fetch(url(), { headers: { Accept: 'application/json' }, cache: 'no-store' })
    .catch(() => null);
  if (ticket !== latest) return;
  if (res && (res.status === 404 || res.status === 410)) { root.hidden = true; return; }
  if (res && res.ok) {
    const data = await res.json();
    if (ticket === latest) draw(data);
  }
}

async function change(action, body, done) {
  if (busy) return;
  const what = `${action} ${JSON.stringify(body)}`;
  if (!pending.has(what)) pending.set(what, randomKey());
  busy = true;
  root.setAttribute('aria-busy', 'true');
  const ticket = ++latest;
  const res = await fetch(url(`/${action}`), { method: 'POST', body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json', Accept: 'application/json',
      'Idempotency-Key': pending.get(what) } }).catch(() => null);
  busy = false;
  root.setAttribute('aria-busy', 'false');
  if (!res) { say('Not saved: you seem to be offline. Try again.', true); return; }
  pending.delete(what);
  if (res.ok) {
    const data = await res.json();
    if (ticket === latest) draw(data);
    say(done());
    dispatchEvent(new CustomEvent('lastmile:changed'));
    return;
  }
  const problem = await res.json().catch(() => ({}));
  say(problem.detail || 'That could not be changed.', true);
  load(); // what may be changed may have moved on meanwhile
}

function slotButton(offer, action) {
  const b = make('button', 'slot');
  b.type = 'button';
  b.dataset.slot = offer.slot_id;
  b.append(make('span', 'slot-time', span(offer)),
    make('span', 'slot-price', money(offer.price, offer.currency)));
  if (offer.green) {
    b.append(Object.assign(make('span', 'slot-green', 'Green'),
      { title: 'A van already passes nearby' }));
  }
  b.setAttribute('aria-pressed', String(offer.current));
  b.disabled = offer.current;
  b.addEventListener('click', () => change(action, { slot_id: offer.slot_id },
    () => `Done: we now deliver on ${dayName(offer.date)} between ${span(offer)}.`));
  return b;
}

function drawTimes() {
  const list = $('window-slots');
  list.replaceChildren(...view.windows.map((o) => slotButton(o, 'window')));
  if (!view.windows.length) list.append(make('p', 'muted', 'No other time is free that day.'));
  const days = view.days.map((d) => d.date);
  if (!days.includes(day)) day = days[0] || null;
  $('reschedule-days').replaceChildren(...view.days.map((d) => {
    const b = make('button', 'day', dayName(d.date));
    b.type = 'button';
    b.dataset.date = d.date;
    b.setAttribute('aria-pressed', String(d.date === day));
    b.addEventListener('click', () => { day = d.date; drawTimes(); });
    return b;
  }));
  const chosen = view.days.find((d) => d.date === day);
  $('reschedule-slots').replaceChildren(
    ...(chosen ? chosen.windows.map((o) => slotButton(o, 'reschedule'))
      : [make('p', 'muted', 'No other day has a free window.')]));
}

function drawPoints() {
  $('locker-list').replaceChildren(...view.pickup_points.map((p) => {
    const li = make('li', 'point');
    const b = make('button', 'point-pick');
    b.type = 'button';
    b.dataset.point = p.id;
    b.append(make('span', 'point-name', p.name),
      make('span', 'point-meta', `${KINDS[p.kind]} · ${metres(p.distance_m)}`),
      make('span', 'point-room', p.current ? 'Your choice'
        : p.available ? `${p.free_compartments} free` : p.reason));
    b.setAttribute('aria-pressed', String(p.current));
    b.disabled = p.current || !p.available;
    b.addEventListener('click', () => change('redirect', { pickup_point_id: p.id },
      () => `Done: your parcel goes to ${p.name}.`));
    li.append(b);
    return li;
  }));
  $('locker-empty').hidden = view.pickup_points.length > 0;
  $('locker-home').hidden = !view.current.pickup_point_id;
}

function drawForms() {
  const c = view.current, select = $('safe-place-select');
  const option = (value, label) => Object.assign(make('option', '', label), { value });
  if (!editing($('safe-place-form'))) {
    select.replaceChildren(option('', 'Nowhere: hand it to me'),
      ...view.safe_places.map((p) => option(p, PLACES[p] || p)));
    select.value = c.safe_place || '';
    $('safe-place-note').value = c.safe_place_note || '';
  }
  if (!editing($('instructions-form'))) $('instructions-text').value = c.instructions || '';
  const a = view.allowances;
  $('options').hidden = !a.signature && !a.in_home;
  $('opt-signature-row').hidden = !a.signature;
  $('opt-in-home-row').hidden = !a.in_home;
  if (!editing($('options-form'))) {
    $('opt-signature').checked = c.signature_required;
    $('opt-in-home').checked = c.in_home;
  }
}

function summaries() {
  const c = view.current, point = view.pickup_points.find((p) => p.current);
  const now = {
    'change-time': c.window ? span(c.window) : '',
    reschedule: dayName(c.service_date),
    locker: point ? point.name : (c.pickup_point_id ? 'Chosen' : 'Your address'),
    'safe-place': c.safe_place ? PLACES[c.safe_place] : 'Hand it to me',
    instructions: c.instructions ? 'Added' : 'None',
    options: [c.signature_required && 'Signature', c.in_home && 'In-home']
      .filter(Boolean).join(', ') || 'None',
  };
  for (const [id, value] of Object.entries(now)) {
    $(id).querySelector('[data-now]').textContent = value;
  }
}

function draw(data) {
  view = data;
  for (const item of root.querySelectorAll('.manage-item')) {
    const state = view.actions[item.dataset.action];
    const reason = item.querySelector('[data-reason]');
    reason.hidden = state.allowed;
    reason.textContent = state.reason || '';
    item.querySelector('[data-controls]').hidden = !state.allowed;
    item.classList.toggle('is-locked', !state.allowed);
  }
  drawTimes(); drawPoints(); drawForms(); summaries();
  // Nothing left to change (delivered, cancelled): the panel goes rather than show locks.
  root.hidden = !Object.values(view.actions).some((state) => state.allowed);
  if (!opened) { opened = true; follow(); }
}

// Links in messages (e.g. "delayed: reschedule") open the matching change: /t/<token>#locker.
function follow() {
  const item = location.hash && document.getElementById(location.hash.slice(1));
  if (!item || !item.classList.contains('manage-item') || item.hidden) return;
  item.open = true;
  item.scrollIntoView({ block: 'start' });
  item.querySelector('summary').focus({ preventScroll: true });
}

if (root) {
  $('locker-home').addEventListener('click', () => change('redirect', { pickup_point_id: null },
    () => 'Done: your parcel comes to your address.'));
  $('safe-place-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const place = $('safe-place-select').value || null;
    const note = $('safe-place-note').value.trim() || null;
    change('safe-place', { safe_place: place, note: place ? note : null },
      () => (place ? `Saved: ${PLACES[place].toLowerCase()}.` : 'Saved: we hand it to you.'));
  });
  $('instructions-form').addEventListener('submit', (e) => {
    e.preventDefault();
    change('instructions', { instructions: $('instructions-text').value.trim() || null },
      () => 'Saved: your driver will see your instructions.');
  });
  $('options-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const body = {};
    if (view.allowances.signature) body.signature_required = $('opt-signature').checked;
    if (view.allowances.in_home) body.in_home = $('opt-in-home').checked;
    change('delivery-options', body, () => 'Saved: your delivery options.');
  });
  // A new status may open or close changes (cut-off); other snapshots change nothing here.
  addEventListener('lastmile:snapshot', (e) => {
    if (e.detail.order.status === status) return;
    status = e.detail.order.status;
    load();
  });
  addEventListener('lastmile:order_changed', () => { if (status) load(); });
  addEventListener('hashchange', follow);
}
