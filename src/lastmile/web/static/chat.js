// Tracking page chat: GET/POST /v1/self-service/{token}/messages. Live messages and read
// receipts arrive through the page's one event stream, which tracking.js forwards as window
// events (lastmile:message, lastmile:read). All text goes in through textContent.
const root = document.getElementById('chat');
const $ = (id) => document.getElementById(id);
const WHO = { driver: 'Driver', dispatcher: 'Dispatch', customer: 'You' };
const POLL_MS = 30000; // when the live stream is over (delivered) but the chat is still open

let view = null, key = null, reading = false, visible = false;

const make = (tag, cls, value) => Object.assign(document.createElement(tag),
  { className: cls, textContent: value ?? '' });
const clock = (iso) => new Intl.DateTimeFormat(document.documentElement.lang || 'en',
  { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso));
const randomKey = () => Array.from(crypto.getRandomValues(new Uint8Array(16)),
  (b) => b.toString(16).padStart(2, '0')).join('');

function sender(m) {
  if (m.sender.role === 'dispatcher') return WHO.dispatcher;
  return m.sender.name ? `${m.sender.name} · ${WHO[m.sender.role]}` : WHO[m.sender.role];
}

function bubble(m) {
  const mine = m.side === 'customer';
  const li = make('li', `msg ${mine ? 'msg--mine' : 'msg--theirs'}`);
  li.dataset.seq = m.seq;
  if (!mine) li.append(make('span', 'msg-who', sender(m)));
  li.append(make('p', 'msg-body', m.body));
  const meta = make('span', 'msg-meta');
  meta.append(Object.assign(make('time', '', clock(m.created_at)), { dateTime: m.created_at }));
  if (mine) {
    const read = m.seq <= view.read.staff;
    li.dataset.read = read;
    meta.append(Object.assign(make('span', 'msg-tick', read ? '✓✓' : '✓'),
      { title: read ? 'Read' : 'Sent' }));
    meta.lastChild.setAttribute('aria-label', read ? 'Read' : 'Sent');
  }
  li.append(meta);
  return li;
}

const unread = () => view.messages.filter((m) => m.side === 'staff' && m.seq > view.read.customer);

function draw() {
  const log = $('chat-log'), atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  log.replaceChildren(...view.messages.map(bubble));
  if (atEnd) log.scrollTop = log.scrollHeight;
  $('chat-empty').hidden = view.messages.length > 0;
  const n = unread().length;
  $('chat-unread').hidden = n === 0;
  $('chat-unread').textContent = `${n} new`;
  const closed = !view.open;
  $('chat-form').hidden = closed;
  if (closed) status('This conversation is closed.');
  root.hidden = false;
  markRead();
}

function status(text) { $('chat-status').textContent = text; }

function add(message) {
  if (view.messages.some((m) => m.seq === message.seq)) return;
  view.messages.push(message);
  view.messages.sort((a, b) => a.seq - b.seq);
  draw();
}

async function load() {
  const res = await fetch(root.dataset.api, { headers: { Accept: 'application/json' },
    cache: 'no-store' }).catch(() => null);
  if (!res || !res.ok) return; // the tracking view explains an expired link
  view = await res.json();
  draw();
}

// Tell the driver we have read their messages, once the chat is on screen and the tab shown.
async function markRead() {
  const last = view && unread().at(-1);
  if (!last || reading || !visible || document.visibilityState !== 'visible') return;
  reading = true;
  const res = await fetch(`${root.dataset.api}/read`, { method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ up_to: last.seq }) }).catch(() => null);
  reading = false;
  if (res && res.ok) {
    view.read.customer = Math.max(view.read.customer, (await res.json()).up_to);
    draw();
  }
}

async function send(event) {
  event.preventDefault();
  const input = $('chat-input'), body = input.value.trim();
  if (!body) { status('Write a message first.'); input.focus(); return; }
  key = key || randomKey(); // kept until it succeeds, so a retried send is not sent twice
  $('chat-send').disabled = true;
  const res = await fetch(root.dataset.api, { method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key },
    body: JSON.stringify({ body }) }).catch(() => null);
  $('chat-send').disabled = false;
  if (res && res.status === 201) {
    key = null; input.value = ''; status('');
    add(await res.json());
    return;
  }
  if (!res) { status('Not sent: you seem to be offline. Try again.'); return; }
  key = null;
  if (res.status === 429) {
    status(`You are sending messages quickly. Try again in ${res.headers.get('Retry-After')} s.`);
  } else if (res.status === 409) {
    load();
  } else {
    const problem = await res.json().catch(() => ({}));
    status(problem.detail || 'Your message could not be sent.');
  }
}

if (root) {
  $('chat-form').addEventListener('submit', send);
  $('chat-input').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); $('chat-form').requestSubmit(); }
  });
  addEventListener('lastmile:message', (e) => { if (view) add(e.detail); });
  addEventListener('lastmile:read', (e) => {
    if (!view || e.detail.side !== 'staff') return;
    view.read.staff = Math.max(view.read.staff, e.detail.up_to);
    draw();
  });
  new IntersectionObserver(([entry]) => { visible = entry.isIntersecting; markRead(); })
    .observe(root);
  document.addEventListener('visibilitychange', markRead);
  setInterval(() => {
    const live = $('live');
    if (view && view.open && !document.hidden && (!live || live.dataset.live !== 'open')) load();
  }, POLL_MS);
  load();
}
