// The driver's actions as outbox items: the HTTP request to replay (docs/driver.md, "API") and
// what the action means for the local view (projection.js).
import { multipart } from './multipart.js';

const json = (kind, url, body, subject, label, effect = {}) => ({
  kind, method: 'POST', url, subject, label, effect,
  body: body === null ? null : JSON.stringify(body),
  contentType: body === null ? null : 'application/json',
});

export const startShift = (route) => json(
  'start', `/v1/driver/routes/${encodeURIComponent(route.id)}/start`, null,
  { route_id: route.id }, 'Start shift',
);

// ``at``: when scanned, so a scan queued offline is recorded at its real time.
export const loadout = (route, barcodes, complete = false) => json(
  'loadout', `/v1/driver/routes/${encodeURIComponent(route.id)}/loadout`,
  { barcodes, complete, at: new Date().toISOString() }, { route_id: route.id },
  complete ? 'Finish load-out' : `Load-out scan ${barcodes.join(', ')}`,
  { barcodes, complete },
);

export function arrive(stop) {
  const at = new Date().toISOString();
  return json('arrive', `/v1/driver/stops/${encodeURIComponent(stop.id)}/arrive`, { at },
    { stop_id: stop.id }, `Arrival at stop ${stop.position}`, { at });
}

function proof(kind, order, fields, label) {
  // The boundary is fixed when the action is stored, so every replay is the same bytes.
  const { body, contentType } = multipart(fields, `lastmile-${crypto.randomUUID()}`);
  const url = `/v1/driver/orders/${encodeURIComponent(order.id)}/${kind}`;
  return { kind, method: 'POST', url, body, contentType, subject: { order_id: order.id },
    label, effect: {} };
}

/** ``at`` is when it happened; ``where`` the last GPS fix, if any. */
export function deliver(order, { recipient, ageChecked, photo, signature, note, at, where }) {
  return proof('deliver', order, [
    ['captured_at', at], ['recipient_name', recipient], ['age_checked', ageChecked],
    ['note', note], ['lat', where && where.lat], ['lon', where && where.lon],
    ['photo', photo], ['signature', signature],
  ], `Delivery ${order.merchant_reference || order.id}`);
}

export function fail(order, { reason, photo, note, at, where }) {
  return proof('fail', order, [
    ['captured_at', at], ['reason', reason], ['note', note],
    ['lat', where && where.lat], ['lon', where && where.lon], ['photo', photo],
  ], `Failed attempt ${order.merchant_reference || order.id}`);
}

export const positions = (fixes) => json('positions', '/v1/positions', { fixes }, {},
  `${fixes.length} GPS positions`);

/** A chat message to the order's customer: ``{body}`` or ``{quick_reply}``; ``text`` is what
 * the driver sees while it waits to be sent. */
export const message = (order, payload, text) => json(
  'message', `/v1/orders/${encodeURIComponent(order.id)}/messages`, payload,
  { order_id: order.id }, `Message to ${order.customer_first_name || 'the customer'}`, { text },
);
