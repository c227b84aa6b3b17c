// The driver's live stream (GET /v1/live/driver): what happens to the orders on today's routes.
// The server fixes the stream's set of orders when it opens, so the stream is opened again
// whenever the token or that set changes. Its events are re-dispatched on this object.
const EVENTS = ['order_changed', 'status', 'message', 'read'];

export class LiveFeed extends EventTarget {
  constructor() {
    super();
    this.source = null;
    this.key = null; // token and order ids the open stream was asked for
  }

  /** 'open', 'connecting' (also: reconnecting after a drop) or 'closed'. */
  get state() {
    if (!this.source || this.source.readyState === EventSource.CLOSED) return 'closed';
    return this.source.readyState === EventSource.OPEN ? 'open' : 'connecting';
  }

  /** Follows ``orderIds`` with ``token``; keeps the stream when neither changed. */
  follow(token, orderIds) {
    const key = `${token} ${[...orderIds].sort().join(',')}`;
    if (key === this.key && this.state !== 'closed') return;
    this.close();
    if (!orderIds.length) return;
    this.key = key;
    const source = new EventSource(`/v1/live/driver?access_token=${encodeURIComponent(token)}`);
    this.source = source;
    // Events may have been missed before each (re)connection: listeners read the state again.
    source.addEventListener('open', () => this.emit('open'));
    // A refused stream (expired token) ends CLOSED; a dropped one reconnects by itself.
    source.addEventListener('error', () => this.emit('state'));
    for (const type of EVENTS) {
      source.addEventListener(type, (event) => this.emit(type, JSON.parse(event.data)));
    }
    this.emit('state');
  }

  close() {
    if (this.source) this.source.close();
    this.source = null;
    this.key = null;
    this.emit('state');
  }

  emit(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail })); }
}
