// Formatting shared by the console pages. Times show in the organisation's time zone (set
// once from GET /v1/organization), not the browser's: a dispatcher abroad sees local times.
let zone;

export function setZone(timezone) { zone = timezone || undefined; }

const formatter = (opts) => new Intl.DateTimeFormat('en-GB', { timeZone: zone, ...opts });

/** "14:05" in the organisation's zone; "–" for nothing. */
export function time(iso) {
  if (!iso) return '–';
  return formatter({ hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso));
}

export function span(from, to) { return from && to ? `${time(from)}–${time(to)}` : '–'; }

/** The organisation's calendar date of an instant, as YYYY-MM-DD. */
export function dayOf(when) {
  const parts = formatter({ year: 'numeric', month: '2-digit', day: '2-digit' })
    .formatToParts(when instanceof Date ? when : new Date(when));
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get('year')}-${get('month')}-${get('day')}`;
}

export function longDay(isoDate) {
  return new Intl.DateTimeFormat('en-GB', { weekday: 'long', day: 'numeric', month: 'long',
    timeZone: 'UTC' }).format(new Date(`${isoDate}T12:00:00Z`));
}

export function ago(iso, now = Date.now()) {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min ago`;
}

export const words = (s) => (s || '').replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());

export const VEHICLE_TYPES = {
  van: 'Van', ev_van: 'Electric van', cargo_bike: 'Cargo bike', drone: 'Drone',
};

export const ORDER_STATUS_CHIP = {
  created: '', planned: 'info', dispatched: 'info', out_for_delivery: 'info', arriving: 'info',
  delivered: 'ok', failed: 'bad', rescheduled: 'warn', returned: 'warn', cancelled: '',
};

export function number(value, digits = 0) {
  return Number(value).toLocaleString('en-GB', { minimumFractionDigits: digits,
    maximumFractionDigits: digits });
}

/** "+1.2" / "−0.4" with a sign, for deltas. */
export function signed(value, digits = 1) {
  const n = Number(value);
  const text = number(Math.abs(n), digits);
  if (Math.round(Math.abs(n) * 10 ** digits) === 0) return text;
  return `${n > 0 ? '+' : '−'}${text}`;
}
