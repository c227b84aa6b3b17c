// The outbox: every action the driver takes is stored here first (IndexedDB) and sent from
// here, oldest first, each with the Idempotency-Key it was given when it was stored. An item
// leaves the outbox only on an answer that settles it: 2xx, or a 4xx that retrying cannot
// change (a 409 "already done" counts as done; others wait for the driver as a problem).
import { ApiError, Unreachable, call, session } from './api.js';
import { addItem, allItems, deleteItem, putItem } from './store.js';

const RETRY_MS = 15000;
const MAX_BACKOFF_MS = 120000;
// Statuses that a later attempt may answer differently.
const TRANSIENT = new Set([408, 425, 429]);
// 409s that mean the server already holds what this action asks for: a replay after the
// first answer was lost, or the same step taken on another phone.
const ALREADY = { deliver: /already delivered/i, fail: /already failed/i };

/**
 * What to do with an item after an attempt: 'done', 'retry' (keep, try later, keep order),
 * 'auth' (the token is no longer valid), 'drop' (nothing anyone can fix), or 'problem'.
 */
export function verdict(item, error) {
  if (!error) return 'done';
  if (error instanceof Unreachable) return 'retry';
  const status = error.status;
  if (status === 401) return 'auth';
  if (status >= 500 || TRANSIENT.has(status)) return 'retry';
  if (status === 409 && error.slug === 'request-in-progress') return 'retry';
  if (status === 409 && ALREADY[item.kind] && ALREADY[item.kind].test(error.message)) {
    return 'done';
  }
  // Fixes are screened one by one by the server; a refused batch has nothing to correct.
  if (item.kind === 'positions') return 'drop';
  return 'problem';
}

export class Outbox extends EventTarget {
  constructor() {
    super();
    this.items = [];
    this.settled = []; // sent, but perhaps not yet in the last route snapshot
    this.sending = false;
    this.again = false;
    this.failures = 0;
    this.reachable = true;
    this.timer = null;
  }

  /** Items of the driver logged in on this phone (others wait for their owner). */
  mine() {
    const user = session.user;
    return this.items.filter((item) => user && item.owner === user.user_id);
  }

  get pending() { return this.mine().filter((item) => item.state === 'pending'); }

  get problems() { return this.mine().filter((item) => item.state === 'problem'); }

  get online() { return navigator.onLine && this.reachable; }

  async load() {
    this.items = await allItems();
    this.emit('change');
  }

  emit(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail })); }

  /** Stores an action ({kind, method, url, body, contentType, subject, effect, label}). */
  async add(action) {
    const item = await addItem({
      ...action,
      key: crypto.randomUUID(),
      owner: session.user.user_id,
      createdAt: new Date().toISOString(),
      attempts: 0,
      state: 'pending',
      problem: null,
    });
    this.items.push(item);
    this.emit('change');
    this.drain();
    return item;
  }

  async remove(item) {
    await deleteItem(item.seq);
    this.items = this.items.filter((x) => x.seq !== item.seq);
    this.emit('change');
  }

  /** Puts a problem back in line (after the dispatcher fixed what it was refused for). */
  async retry(item) {
    Object.assign(item, { state: 'pending', problem: null });
    await putItem(item);
    this.emit('change');
    this.drain();
  }

  /** Forgets what was sent before ``since``: a snapshot fetched after it includes it. */
  forgetSettled(since) {
    this.settled = this.settled.filter((item) => item.sentAt >= since);
  }

  /** Sends the driver's pending items in order until one must wait. */
  async drain() {
    if (this.sending) {
      this.again = true;
      return;
    }
    this.sending = true;
    try {
      do {
        this.again = false;
        await this.sendAll();
      } while (this.again);
    } finally {
      this.sending = false;
    }
  }

  async sendAll() {
    for (let item = this.pending[0]; item; item = this.pending[0]) {
      if (!session.token) return;
      const { outcome, data } = await this.attempt(item);
      if (outcome === 'retry') {
        this.failures += 1;
        this.schedule(Math.min(RETRY_MS * 2 ** (this.failures - 1), MAX_BACKOFF_MS));
        return;
      }
      this.failures = 0;
      if (outcome === 'auth') {
        session.expire();
        this.emit('auth');
        return;
      }
      if (outcome === 'problem') {
        await putItem(item);
        this.emit('change');
        continue;
      }
      this.settled.push({ ...item, sentAt: Date.now() });
      await this.remove(item);
      this.emit('sent', { item, data });
    }
  }

  async attempt(item) {
    item.attempts += 1;
    const headers = { 'Idempotency-Key': item.key };
    if (item.contentType) headers['Content-Type'] = item.contentType;
    let data = null, error = null;
    try {
      ({ data } = await call(item.method, item.url, { body: item.body, headers }));
    } catch (caught) {
      if (!(caught instanceof ApiError || caught instanceof Unreachable)) throw caught;
      error = caught;
    }
    this.setReachable(!(error instanceof Unreachable));
    const outcome = verdict(item, error);
    if (outcome === 'problem') {
      const p = error.problem;
      item.state = 'problem';
      item.problem = { status: error.status, title: p.title || 'Refused', detail: error.message,
        errors: (p.errors || []).map((e) => `${e.field}: ${e.message}`) };
    }
    return { outcome, data };
  }

  setReachable(reachable) {
    if (this.reachable === reachable) return;
    this.reachable = reachable;
    this.emit('change');
  }

  schedule(delay) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.drain(), delay);
  }

  /** Sends on page load, when the phone says it is online again, and every RETRY_MS. */
  start() {
    window.addEventListener('online', () => {
      this.failures = 0;
      this.reachable = true;
      this.emit('change');
      this.drain();
    });
    window.addEventListener('offline', () => this.emit('change'));
    setInterval(() => { if (this.pending.length) this.drain(); }, RETRY_MS);
    this.drain();
  }
}
