// The route as the driver should see it: the server's last snapshot with every action that is
// queued (or sent but not yet in a snapshot) applied on top. Pure: no DOM, no I/O.
const CLOSED = new Set(['delivered', 'failed', 'cancelled', 'returned']);

function index(today) {
  const routes = new Map(), stops = new Map(), orders = new Map();
  for (const route of today.routes) {
    routes.set(route.id, route);
    for (const stop of route.stops) {
      stops.set(stop.id, stop);
      for (const order of stop.orders) orders.set(order.id, { order, stop, route });
    }
  }
  return { routes, stops, orders };
}

const EFFECTS = {
  start({ routes }, item) {
    const route = routes.get(item.subject.route_id);
    if (!route) return;
    if (route.status === 'dispatched') route.status = 'in_progress';
    for (const stop of route.stops) {
      for (const order of stop.orders) {
        if (order.status === 'dispatched') order.status = 'out_for_delivery';
      }
    }
    return route;
  },
  loadout({ routes }, item) {
    const route = routes.get(item.subject.route_id);
    if (!route || !route.loadout) return;
    const scanned = new Set(item.effect.barcodes);
    const missing = route.loadout.missing.filter((code) => !scanned.has(code));
    route.loadout.scanned += route.loadout.missing.length - missing.length;
    route.loadout.missing = missing;
    if (item.effect.complete && !route.loadout.completed_at) {
      route.loadout.completed_at = item.createdAt;
    }
    return route;
  },
  arrive({ stops }, item) {
    const stop = stops.get(item.subject.stop_id);
    if (!stop) return;
    if (stop.status === 'pending' || stop.status === 'arriving') {
      stop.status = 'arrived';
      stop.arrived_at = item.effect.at;
    }
    for (const order of stop.orders) {
      if (!CLOSED.has(order.status)) order.status = 'arriving';
    }
    return stop;
  },
  deliver({ orders }, item) {
    const found = orders.get(item.subject.order_id);
    if (!found || CLOSED.has(found.order.status)) return;
    Object.assign(found.order, { status: 'delivered', proof_status: 'delivered' });
    return found.order;
  },
  fail({ orders }, item) {
    const found = orders.get(item.subject.order_id);
    if (!found || CLOSED.has(found.order.status)) return;
    Object.assign(found.order, { status: 'failed', proof_status: 'failed' });
    return found.order;
  },
};

/**
 * ``today`` with ``settled`` (sent) and ``pending`` (queued) actions applied, in order. What a
 * pending action touched is marked ``queued: true`` so the page can say it is not sent yet.
 */
export function project(today, settled, pending) {
  const view = structuredClone(today);
  const found = index(view);
  for (const item of settled) {
    if (EFFECTS[item.kind]) EFFECTS[item.kind](found, item);
  }
  for (const item of pending) {
    const touched = EFFECTS[item.kind] && EFFECTS[item.kind](found, item);
    if (touched) touched.queued = true;
  }
  return view;
}

/** The stop's orders that still need the driver (not delivered, failed or cancelled). */
export const openOrders = (stop) => stop.orders.filter((order) => !CLOSED.has(order.status));

export const isClosed = (order) => CLOSED.has(order.status);

/**
 * What the customer changed since ``before``, per order id: the labels of the fields that
 * differ (instructions, safe place, method, ...), so the driver notices them.
 */
export function customerChanges(before, after) {
  const FIELDS = {
    instructions: 'instructions', safe_place: 'safe place', safe_place_note: 'safe place',
    delivery_method: 'delivery method', signature_required: 'signature',
    age_check: 'age check', customer_language: 'language',
  };
  const old = index(before).orders, changes = new Map();
  for (const [id, { order }] of index(after).orders) {
    const previous = old.get(id);
    if (!previous) continue;
    const labels = new Set();
    for (const [field, label] of Object.entries(FIELDS)) {
      if (previous.order[field] !== order[field]) labels.add(label);
    }
    const notes = (o) => (o.address ? o.address.access_notes : null);
    if (notes(previous.order) !== notes(order)) labels.add('access notes');
    if (labels.size) changes.set(id, [...labels]);
  }
  return changes;
}
