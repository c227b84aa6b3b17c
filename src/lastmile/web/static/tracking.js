// Customer tracking page: renders GET /v1/tracking/{token}, then follows its live_url (SSE).
// The server decides what the customer may see (the driver only while heading to this stop);
// this script only draws it. All text goes in through textContent, never as HTML.
(() => {
  'use strict';
  const $ = (id) => document.getElementById(id), root = $('main');
  const TERMINAL = ['delivered', 'returned', 'cancelled'];
  const STATUS = {
    created: 'Order received', planned: 'Preparing your delivery', dispatched: 'With your driver',
    out_for_delivery: 'Out for delivery', arriving: 'Arriving soon', delivered: 'Delivered',
    failed: 'Delivery attempt failed', rescheduled: 'Rescheduled', returned: 'Returned to sender',
    cancelled: 'Cancelled',
  };
  const METHODS = {
    doorstep: 'Hand it to me at the door', safe_place: 'Leave it in a safe place',
    locker: 'Parcel locker', pickup_point: 'Pickup point', in_home: 'In-home delivery',
  };
  const VEHICLES = { cargo_bike: 'Cargo bike', van: 'Van', ev_van: 'Electric van', drone: 'Drone' };
  const calm = matchMedia('(prefers-reduced-motion: reduce)').matches;
  let state = null, map = null, home = null, driver = null, line = null, source = null;
  let opened = false, retry = 0;

  const text = (el, value) => { if (el.textContent !== value) el.textContent = value; };
  const make = (tag, value) => Object.assign(document.createElement(tag), { textContent: value });
  const words = (s) => (s || '').replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
  const fmt = (iso, opts) => new Intl.DateTimeFormat(document.documentElement.lang || 'en',
    { timeZone: state.timezone || undefined, ...opts }).format(new Date(iso));
  const time = (iso) => fmt(iso, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const dayKey = (d) => fmt(d, { year: 'numeric', month: '2-digit', day: '2-digit' });

  function day(iso) { // '' for today, else 'tomorrow' / 'on Tue 24 Nov' in the org's timezone
    const key = dayKey(iso), now = Date.now();
    if (key === dayKey(now)) return '';
    if (key === dayKey(now + 864e5)) return 'tomorrow';
    return 'on ' + fmt(iso, { weekday: 'short', day: 'numeric', month: 'short' });
  }
  const when = (iso) => [day(iso), time(iso)].filter(Boolean).join(', ');

  function hero() {
    const o = state.order, eta = state.eta, pw = o.promised_window;
    const win = eta ? [eta.earliest, eta.latest] : pw ? [pw.starts_at, pw.ends_at] : null;
    const last = state.timeline[state.timeline.length - 1];
    let head, sub = '';
    if (o.status === 'delivered') {
      head = 'Delivered'; sub = last ? `Delivered ${when(last.at)}. Thank you!` : '';
    } else if (o.status === 'failed') {
      head = 'We could not deliver today'; sub = 'We will be in touch to arrange another try.';
    } else if (o.status === 'cancelled' || o.status === 'returned') {
      head = STATUS[o.status]; sub = 'This delivery will not take place.';
    } else if (win) {
      const d = day(win[0]);
      head = `Arriving ${d ? d + ' ' : ''}between ${time(win[0])} and ${time(win[1])}`;
      sub = eta ? `Expected around ${time(eta.expected)}` : 'Your delivery window';
    } else {
      head = 'We are preparing your delivery'; sub = 'Your delivery window will appear here soon.';
    }
    text($('status-label'), STATUS[o.status] || words(o.status));
    text($('headline'), head);
    text($('subline'), sub);
    const n = state.stops_before, chip = $('stops-chip');
    chip.hidden = n === null || n === undefined || TERMINAL.includes(o.status);
    text(chip, n === 0 ? 'You are the next stop' : `${n} stop${n === 1 ? '' : 's'} before yours`);
    $('risk-chip').hidden = !(eta && eta.at_risk) || TERMINAL.includes(o.status);
  }

  function timeline() {
    const steps = state.timeline.filter((e, i, all) => !i || e.status !== all[i - 1].status);
    const items = steps.map((e) => [e.label || STATUS[e.status] || words(e.status), e.at]);
    if (!TERMINAL.includes(state.order.status) && state.order.status !== 'failed') {
      items.push(['Delivered', null]);
    }
    $('timeline').replaceChildren(...items.map(([label, at], i) => {
      const li = document.createElement('li'), current = at && i === steps.length - 1;
      li.className = at ? (current ? 'done current' : 'done') : 'todo';
      if (current) li.setAttribute('aria-current', 'step');
      li.append(make('span', label));
      if (at) li.append(Object.assign(make('time', when(at)), { dateTime: at }));
      return li;
    }));
  }

  function prefs() {
    const o = state.order, rows = [['Deliver to', o.destination && o.destination.label]];
    rows.push(['Delivery', METHODS[o.delivery_method] || words(o.delivery_method)]);
    const spot = [words(o.safe_place), o.safe_place_note].filter(Boolean).join(' · ');
    if (o.safe_place) rows.push(['Safe place', spot]);
    rows.push(['Instructions', o.instructions]);
    if (o.signature_required) rows.push(['Signature', 'Someone needs to sign for this parcel']);
    if (o.age_check) rows.push(['ID check', 'Please have photo ID ready (18+)']);
    const shown = rows.filter((r) => r[1]);
    $('prefs').replaceChildren(...shown.flatMap(([k, v]) => [make('dt', k), make('dd', v)]));
  }

  const pin = (cls) => L.divIcon({ className: `pin ${cls}`, html: '<span></span>',
    iconSize: [36, 36], iconAnchor: cls === 'pin--home' ? [18, 34] : [18, 18] });

  function drawMap() {
    const o = state.order, d = o.destination;
    if (!map) {
      map = L.map('map', { scrollWheelZoom: false, zoomSnap: 0.5 });
      const tiles = state.tiles || {};
      if (tiles.url) {
        L.tileLayer(tiles.url, { maxZoom: 19, attribution: tiles.attribution || '' })
          .on('tileerror', () => $('map').classList.add('map--offline')).addTo(map);
      } else {
        $('map').classList.add('map--offline');
      }
      home = L.marker([d.lat, d.lon], { icon: pin('pin--home'), title: d.label,
        alt: 'Where your parcel goes', keyboard: false }).addTo(map);
    }
    home.setLatLng([d.lat, d.lon]); // moved when the parcel is sent to a locker
    if (line) { line.remove(); line = null; }
    if (state.driver) trim(state.driver);
    if (state.driver && state.path && state.path.length > 1) {
      line = L.polyline(state.path, { className: 'route-line', color: '#1746a2', weight: 5,
        opacity: 0.85, interactive: false }).addTo(map);
    }
    const v = state.driver;
    if (!v && driver) { driver.remove(); driver = null; }
    if (v && !driver) {
      driver = L.marker([v.lat, v.lon], { icon: pin('pin--driver'), title: `${v.name}, your driver`,
        alt: 'Your driver', keyboard: false, zIndexOffset: 1000 }).addTo(map);
    }
    $('driver').hidden = !v;
    $('map-note').hidden = !!v || TERMINAL.includes(o.status);
    if (v) {
      text($('driver-name'), v.name);
      text($('driver-initial'), (v.name || '?').slice(0, 1).toUpperCase());
      text($('driver-vehicle'), VEHICLES[v.vehicle_type] || words(v.vehicle_type));
    }
    fit();
    if (v) place(v, false);
  }

  function fit() {
    const pts = [[state.order.destination.lat, state.order.destination.lon]];
    if (state.driver) pts.push([state.driver.lat, state.driver.lon], ...(state.path || []));
    if (pts.length === 1) map.setView(pts[0], 15);
    else map.fitBounds(pts, { padding: [36, 36], maxZoom: 16 });
  }

  function place(v, animate) { // move the driver marker to v (tweened) and turn its arrow
    const el = driver.getElement();
    el.dataset.lat = v.lat; el.dataset.lon = v.lon;
    const arrow = el.firstElementChild;
    arrow.classList.toggle('has-heading', v.heading !== null && v.heading !== undefined);
    arrow.style.transform = `rotate(${v.heading || 0}deg)`;
    const m = driver, from = m.getLatLng(), t0 = performance.now();
    const span = animate && !calm ? 900 : 0;
    cancelAnimationFrame(place.raf);
    const step = (now) => {
      if (m !== driver) return; // hidden (or replaced) while gliding
      const k = span ? Math.min(1, (now - t0) / span) : 1, e = k * (2 - k);
      m.setLatLng([from.lat + (v.lat - from.lat) * e, from.lng + (v.lon - from.lng) * e]);
      if (k < 1) place.raf = requestAnimationFrame(step);
      else if (animate && !map.getBounds().pad(-0.1).contains(m.getLatLng())) fit();
    };
    if (span) place.raf = requestAnimationFrame(step); else step(t0);
  }

  function trim(v) { // cut the remaining leg where the driver is now: drop what lies behind
    if (!state.path) return;
    const rest = state.path.slice(1), k = Math.cos((v.lat * Math.PI) / 180);
    let cut = 0, best = Infinity;
    for (let i = 0; i + 1 < rest.length; i++) { // nearest segment, lon scaled to ground distance
      const [ay, ax] = rest[i], [by, bx] = rest[i + 1];
      const dx = (bx - ax) * k, dy = by - ay, px = (v.lon - ax) * k, py = v.lat - ay;
      const t = Math.max(0, Math.min(1, (px * dx + py * dy) / (dx * dx + dy * dy || 1)));
      const d = (px - t * dx) ** 2 + (py - t * dy) ** 2;
      if (d < best) { best = d; cut = t > 0 ? i + 1 : i; }
    }
    state.path = [[v.lat, v.lon], ...rest.slice(cut)];
    if (line) line.setLatLngs(state.path);
  }

  function render(data) {
    state = data;
    document.title = `${STATUS[data.order.status] || 'Delivery'} · Track your delivery`;
    text($('merchant'), data.order.merchant || 'Your delivery');
    text($('reference'), data.order.reference ? `Order ${data.order.reference}` : '');
    hero(); timeline(); prefs(); drawMap();
    root.dataset.state = 'ready';
    root.setAttribute('aria-busy', 'false');
    dispatchEvent(new CustomEvent('lastmile:snapshot', { detail: state })); // manage.js
  }

  const live = (status, label) => { $('live').dataset.live = status; text($('live-text'), label); };

  // No more live updates: the delivery is over or the link is dead.
  const stop = (label) => { if (source) source.close(); live('closed', label); };

  function gone() {
    stop('Offline');
    root.dataset.state = 'gone';
    root.setAttribute('aria-busy', 'false');
    text($('status-label'), 'Tracking unavailable');
    text($('headline'), 'This tracking link has expired');
    text($('subline'), 'Tracking links stop working some time after delivery.');
    for (const id of ['stops-chip', 'risk-chip', 'driver']) $(id).hidden = true;
  }

  async function load() {
    const res = await fetch(root.dataset.api, { headers: { Accept: 'application/json' },
      cache: 'no-store' }).catch(() => null);
    if (res && (res.status === 404 || res.status === 410)) return gone();
    if (!res || !res.ok) { // offline or a server hiccup: try again, backing off to 30 s
      live('error', 'Reconnecting…');
      return setTimeout(load, Math.min(30000, 2000 * 2 ** retry++));
    }
    retry = 0;
    render(await res.json());
    if (TERMINAL.includes(state.order.status)) stop('Final');
    else if (!source || source.readyState === EventSource.CLOSED) connect();
  }

  const handlers = {
    position(p) {
      if (!state.driver || !driver) return;
      Object.assign(state.driver, p);
      trim(p); place(state.driver, true);
    },
    eta(e) {
      const { stops_before: _, ...eta } = e;
      state.eta = eta;
      if ('stops_before' in e) state.stops_before = e.stops_before;
      hero();
    },
    status(s) {
      state.order.status = s.status;
      state.timeline.push(s);
      if (TERMINAL.includes(s.status)) { state.driver = null; stop('Final'); }
      render(state);
    },
    visibility(v) {
      if (v.driver) { load(); return; }
      state.driver = null; state.path = null;
      drawMap();
    },
    order_changed: () => load(), // the customer, a dispatcher or the plan changed the order
    snapshot: render,
  };

  function connect() {
    source = new EventSource(state.live_url);
    source.addEventListener('open', () => {
      live('open', 'Live');
      if (opened) load(); // whatever happened while we were away
      opened = true;
    });
    source.addEventListener('error', () => {
      live('error', 'Reconnecting…');
      if (source.readyState === EventSource.CLOSED) setTimeout(load, 3000); // refused: ask again
    });
    for (const [name, fn] of Object.entries(handlers)) {
      source.addEventListener(name, (ev) => fn(JSON.parse(ev.data)));
    }
    // chat.js, feedback.js and manage.js follow this one stream through window events.
    for (const name of ['message', 'read', 'status', 'order_changed']) {
      source.addEventListener(name, (ev) => dispatchEvent(
        new CustomEvent(`lastmile:${name}`, { detail: JSON.parse(ev.data) })));
    }
  }

  addEventListener('lastmile:changed', load); // manage.js changed the delivery
  load();
})();
