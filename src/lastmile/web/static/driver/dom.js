// Small DOM and formatting helpers shared by the screens. Text always goes in through
// textContent, never as HTML: order data comes from customers and merchants.
export const $ = (id) => document.getElementById(id);

export function make(tag, text, className) {
  const el = document.createElement(tag);
  if (text !== undefined && text !== null) el.textContent = text;
  if (className) el.className = className;
  return el;
}

export function setText(el, value) {
  if (el.textContent !== value) el.textContent = value;
}

export const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export const words = (s) => (s || '').replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());

export const STATUS = {
  created: 'New', planned: 'Planned', dispatched: 'To deliver', out_for_delivery: 'To deliver',
  arriving: 'Next', delivered: 'Delivered', failed: 'Failed', rescheduled: 'Rescheduled',
  returned: 'Returned', cancelled: 'Cancelled',
};
export const METHODS = {
  doorstep: 'Hand over at the door', safe_place: 'Leave in a safe place', locker: 'Parcel locker',
  pickup_point: 'Pickup point', in_home: 'In-home delivery',
};
export const REASONS = {
  not_home: 'Nobody home', no_access: 'No access', refused: 'Refused by recipient',
  damaged: 'Parcel damaged', wrong_address: 'Wrong address', unsafe: 'Unsafe to deliver',
};

/** The language's own name ("português") with its code, for a customer's language. */
export function languageName(code) {
  if (!code) return '';
  try {
    const name = new Intl.DisplayNames([code], { type: 'language' }).of(code);
    return name && name !== code ? `${name} (${code.toUpperCase()})` : code.toUpperCase();
  } catch {
    return code.toUpperCase();
  }
}

/** Clock times in the organisation's zone (the phone's own when the API names none). */
export function clock(timeZone) {
  const format = new Intl.DateTimeFormat('en-GB', {
    timeZone: timeZone || undefined, hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  });
  const time = (iso) => (iso ? format.format(new Date(iso)) : '');
  return {
    time,
    span: (a, b) => (a && b ? `${time(a)}–${time(b)}` : time(a || b)),
    date: (isoDate) => new Intl.DateTimeFormat('en-GB', {
      weekday: 'long', day: 'numeric', month: 'long', timeZone: 'UTC',
    }).format(new Date(`${isoDate}T12:00:00Z`)),
  };
}

let toastTimer = null;
/** A short message at the bottom of the screen. */
export function toast(message, tone = 'info') {
  const el = $('toast');
  el.textContent = message;
  el.dataset.tone = tone;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 4000);
}
