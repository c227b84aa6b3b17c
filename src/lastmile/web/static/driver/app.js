// The driver app: login, today's route, load-out, stops, chat; every action goes through the
// outbox (outbox.js) so that it survives being offline; the live stream (live.js) brings the
// customer's changes and messages. See docs/driver.md, "The app".
import * as act from './actions.js';
import { ApiError, Unreachable, call, logIn, logOut, session } from './api.js';
import { Chats } from './chat.js';
import { $, clock as makeClock, plural, setText, toast } from './dom.js';
import { LiveFeed } from './live.js';
import { LoadoutScreen } from './loadout-view.js';
import { Outbox } from './outbox.js';
import { customerChanges, project } from './projection.js';
import { PositionReporter } from './shift.js';
import { StopScreen } from './stop-view.js';
import { currentRoute, renderToday } from './today-view.js';

// The route is read again this often while the live stream is not open...
const POLL_MS = 30000;
// ...and while it is: it follows the orders the route had when it opened, so an order that
// dispatch adds to the route is only seen by reading the route again.
const CHECK_MS = 300000;
const SHIFT = 'lastmile.driver.shift'; // the route whose shift is on, across reloads
const root = $('main');
const outbox = new Outbox();
const reporter = new PositionReporter((fixes) => outbox.add(act.positions(fixes)));
const live = new LiveFeed();
const chats = new Chats();
const state = { today: null, savedAt: null, changed: new Map(), loggingOut: false, readAt: 0 };

const view = () => state.today && project(state.today, outbox.settled, outbox.pending);
const clock = () => makeClock(state.today && state.today.timezone);
const policy = () => (state.today && state.today.policy) || {};

const orderIds = (today) => today.routes.flatMap(
  (route) => route.stops.flatMap((stop) => stop.orders.map((order) => order.id)));

function findStop(current, id) {
  for (const route of current.routes) {
    const stop = route.stops.find((s) => s.id === id);
    if (stop) return { route, stop };
  }
  return null;
}

// --- screens ------------------------------------------------------------------------------

function show(screen) {
  for (const el of root.querySelectorAll('.screen')) el.hidden = el.id !== `screen-${screen}`;
  root.dataset.screen = screen;
  root.setAttribute('aria-busy', 'false');
  $('logout').hidden = screen === 'login';
}

function render() {
  renderStatus();
  if (!session.token) return show('login');
  const current = view();
  if (!current) return show('loading');
  const hash = location.hash.replace(/^#/, '');
  const route = currentRoute(current);
  if (hash.startsWith('stop/')) {
    const found = findStop(current, hash.slice(5));
    if (found) {
      stopScreen.render(found.stop, found.route, { clock: clock(), policy: policy(),
        changed: state.changed,
        outgoing: outbox.pending.filter((item) => item.kind === 'message') });
      return show('stop');
    }
  }
  if (hash === 'loadout' && route && route.loadout) {
    loadoutScreen.render(route);
    return show('loadout');
  }
  loadoutScreen.leave();
  renderToday(current, { clock: clock(), changed: state.changed, shift: reporter,
    savedAt: state.savedAt, unread: (id) => chats.unread(id) });
  return show('today');
}

function renderStatus() {
  root.dataset.live = live.state;
  const pending = outbox.pending.length;
  $('offline-banner').hidden = outbox.online;
  $('queue-banner').hidden = pending === 0;
  $('queue-count').dataset.count = String(pending);
  setText($('queue-count'), String(pending));
  setText($('queue-label'), `${pending === 1 ? 'action' : 'actions'} waiting to be sent`);
  const problems = outbox.problems;
  $('problems').hidden = problems.length === 0;
  $('problem-list').replaceChildren(...problems.map((item) => {
    const li = document.createElement('li');
    li.className = 'problem';
    const p = item.problem;
    li.append(Object.assign(document.createElement('strong'), { textContent: item.label }));
    li.append(Object.assign(document.createElement('p'), {
      textContent: [p.detail, ...p.errors].join(' · ') }));
    const again = Object.assign(document.createElement('button'),
      { type: 'button', className: 'button', textContent: 'Try again' });
    again.addEventListener('click', () => outbox.retry(item));
    const dismiss = Object.assign(document.createElement('button'),
      { type: 'button', className: 'button', textContent: 'Dismiss' });
    dismiss.addEventListener('click', () => outbox.remove(item));
    const buttons = document.createElement('div');
    buttons.className = 'actions';
    buttons.append(again, dismiss);
    li.append(buttons);
    return li;
  }));
}

// --- data ---------------------------------------------------------------------------------

let refreshing = null;
let stale = false; // asked for during a read: what prompted it may have come after the read
async function refresh() {
  if (!session.token) return;
  if (refreshing) {
    stale = true;
    return refreshing;
  }
  const started = Date.now();
  state.readAt = started;
  refreshing = (async () => {
    try {
      const { data, headers } = await call('GET', '/v1/driver/today');
      const savedAt = headers.get('X-Lastmile-Saved-At');
      if (state.today && !savedAt) {
        for (const [id, labels] of customerChanges(state.today, data)) {
          state.changed.set(id, labels);
          toast(`Updated by the customer: ${labels.join(', ')}`, 'warn');
        }
      }
      state.today = data;
      state.savedAt = savedAt;
      if (!savedAt) {
        outbox.forgetSettled(started);
        live.follow(session.token, orderIds(data));
      }
      outbox.setReachable(!savedAt);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return expired();
      if (!(error instanceof Unreachable || error instanceof ApiError)) throw error;
      outbox.setReachable(!(error instanceof Unreachable));
      if (!state.today) toast('The route could not be loaded. It will be retried.', 'bad');
    } finally {
      refreshing = null;
    }
    render();
    if (stale) {
      stale = false;
      await refresh();
    }
  })();
  return refreshing;
}

function expired() {
  session.expire();
  reporter.stop();
  live.close();
  const pending = outbox.pending.length;
  $('login-error').textContent = 'Your session has ended: please log in again.'
    + (pending ? ` ${plural(pending, 'action')} will be sent afterwards.` : '');
  $('login-error').hidden = false;
  render();
}

// --- actions ------------------------------------------------------------------------------

async function queue(action, message) {
  // The fixes taken so far go first: the server then knows where the driver was when acting.
  await reporter.flush();
  await outbox.add(action);
  toast(outbox.online ? message : `${message} · saved on this phone, sent when online`, 'ok');
  render();
}

const where = () => reporter.last;
const now = () => new Date().toISOString();

async function startShift() {
  const route = currentRoute(view());
  if (!route) return;
  localStorage.setItem(SHIFT, route.id);
  // The start goes in the queue before the first GPS batch can.
  if (route.status === 'dispatched') await queue(act.startShift(route), 'Shift started');
  reporter.start(render);
  render();
}

function endShift() {
  localStorage.removeItem(SHIFT);
  reporter.stop();
  toast('Shift ended · your location is no longer shared');
  render();
}

const stopScreen = new StopScreen({
  arrive: (stop) => queue(act.arrive(stop), `Arrived at stop ${stop.position}`),
  async deliver(order, fields) {
    await queue(act.deliver(order, { ...fields, at: now(), where: where() }), 'Delivered');
    location.hash = '';
  },
  async fail(order, fields) {
    await queue(act.fail(order, { ...fields, at: now(), where: where() }), 'Failed attempt saved');
    location.hash = '';
  },
  // No toast: the message shows in the conversation, marked while it is not sent.
  say: (order, payload, text) => outbox.add(act.message(order, payload, text)),
}, chats);

const loadoutScreen = new LoadoutScreen({
  scan: (route, code) => queue(act.loadout(route, [code]), `Scanned ${code}`),
  async finish(route) {
    await queue(act.loadout(route, [], true), 'Load-out finished');
    location.hash = '';
  },
});

// --- wiring -------------------------------------------------------------------------------

outbox.addEventListener('change', render);
outbox.addEventListener('auth', expired);
let settle = null;
outbox.addEventListener('sent', ({ detail }) => {
  const { item, data } = detail;
  if (item.kind === 'message') {
    if (data) chats.received(item.subject.order_id, data);
    return; // a message changes nothing on the route
  }
  if (item.kind === 'loadout' && data) loadoutScreen.answered(data);
  // One refresh after a burst of sends, not one per action.
  clearTimeout(settle);
  settle = setTimeout(refresh, 800);
});

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const error = $('login-error');
  const submit = $('login-submit');
  error.hidden = true;
  submit.disabled = true;
  try {
    const me = await logIn($('login-email').value.trim(), $('login-password').value);
    if (me.access !== 'driver') {
      session.clear();
      throw new Error('This app is for drivers. Dispatchers use the dashboard.');
    }
    $('login-password').value = '';
    location.hash = '';
    await refresh();
    outbox.drain();
    chats.loadQuickReplies();
  } catch (caught) {
    error.textContent = caught instanceof Unreachable
      ? 'No connection. Logging in needs the network once.'
      : caught instanceof ApiError && caught.status === 401
        ? 'Wrong e-mail or password.' : caught.message;
    error.hidden = false;
  } finally {
    submit.disabled = false;
    render();
  }
});

$('logout').addEventListener('click', async () => {
  const pending = outbox.pending.length;
  if (pending && !state.loggingOut) {
    // A second tap confirms: the actions stay queued for this driver's next login.
    state.loggingOut = true;
    setText($('logout'), `${plural(pending, 'action')} not sent · log out anyway?`);
    setTimeout(() => {
      state.loggingOut = false;
      setText($('logout'), 'Log out');
    }, 5000);
    return;
  }
  state.loggingOut = false;
  setText($('logout'), 'Log out');
  localStorage.removeItem(SHIFT);
  reporter.stop();
  live.close();
  await logOut();
  if ('caches' in window) await caches.delete('driver-data');
  chats.clear();
  Object.assign(state, { today: null, savedAt: null, changed: new Map() });
  render();
});

window.addEventListener('online', refresh);
chats.addEventListener('change', render);
live.addEventListener('state', render);
live.addEventListener('open', async () => {
  render();
  // What happened while the stream was not open: the route (and its changes), the messages.
  await refresh();
  if (state.today) await chats.sync(orderIds(state.today));
});
let soon = null;
const refreshSoon = () => {
  // A shift start moves every order at once: one refresh for the burst.
  clearTimeout(soon);
  soon = setTimeout(refresh, 300);
};
live.addEventListener('order_changed', refreshSoon);
live.addEventListener('status', refreshSoon);
live.addEventListener('message', ({ detail }) => chats.received(detail.order_id, detail));
live.addEventListener('read', ({ detail }) => chats.readMoved(detail.order_id, detail.side,
  detail.up_to));
$('start-shift').addEventListener('click', startShift);
$('end-shift').addEventListener('click', endShift);
let viewed = null; // the stop on screen: the customer's changes count as seen once left
window.addEventListener('hashchange', () => {
  for (const order of viewed ? viewed.orders : []) state.changed.delete(order.id);
  const id = location.hash.startsWith('#stop/') ? location.hash.slice(6) : null;
  const found = id && state.today && findStop(state.today, id);
  viewed = found ? found.stop : null;
  render();
  window.scrollTo(0, 0);
});

async function boot() {
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register(root.dataset.worker, { scope: root.dataset.app })
      .catch(() => {}); // without it the app still works online
  }
  await outbox.load();
  render();
  if (session.token) {
    await refresh();
    const route = currentRoute(view());
    if (route && localStorage.getItem(SHIFT) === route.id) reporter.start(render);
    chats.loadQuickReplies();
  }
  outbox.start();
  setInterval(() => {
    if (document.visibilityState !== 'visible') return;
    // With the stream open, once the last read is about CHECK_MS old (ticks are POLL_MS apart).
    if (live.state !== 'open' || Date.now() - state.readAt >= CHECK_MS - POLL_MS) refresh();
  }, POLL_MS);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') refresh();
  });
}

boot();
