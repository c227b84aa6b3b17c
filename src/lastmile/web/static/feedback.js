// Tracking page rating form: GET/POST /v1/self-service/{token}/feedback. Shown once the
// delivery is over (the status arrives live through tracking.js's lastmile:status events);
// the #rate link of the feedback request opens it.
const root = document.getElementById('rate');
const $ = (id) => document.getElementById(id);
const OVER = ['delivered', 'failed'];

let key = null;

const stars = (n) => '★'.repeat(n) + '☆'.repeat(5 - n);
const randomKey = () => Array.from(crypto.getRandomValues(new Uint8Array(16)),
  (b) => b.toString(16).padStart(2, '0')).join('');

function status(text) { $('rate-status').textContent = text; }

function done(feedback) {
  $('rate-form').hidden = true;
  $('rate-done').hidden = false;
  $('rate-given').textContent = `${stars(feedback.rating)} You rated this delivery `
    + `${feedback.rating} out of 5.`;
}

function show(state) {
  if (state.feedback) done(state.feedback);
  else if (!state.can_rate) { root.hidden = true; return; }
  root.hidden = false;
  if (location.hash === '#rate') open();
}

function open() {
  if (root.hidden) return;
  root.scrollIntoView({ block: 'start' });
  ($('rate-form').hidden ? root : $('rate-1')).focus({ preventScroll: true });
}

async function load() {
  const res = await fetch(root.dataset.api, { headers: { Accept: 'application/json' },
    cache: 'no-store' }).catch(() => null);
  if (res && res.ok) show(await res.json());
}

function paint() { // light up the stars up to the chosen one
  const chosen = Number(new FormData($('rate-form')).get('rating') || 0);
  root.querySelectorAll('.star').forEach((label, i) => label.classList.toggle('on', i < chosen));
}

async function submit(event) {
  event.preventDefault();
  const form = new FormData($('rate-form'));
  const rating = Number(form.get('rating'));
  if (!rating) { status('Choose from 1 to 5 stars.'); $('rate-1').focus(); return; }
  const body = { rating, tags: form.getAll('tags'), comment: form.get('comment').trim() || null };
  key = key || randomKey(); // kept until it succeeds, so a retried rating is not sent twice
  $('rate-send').disabled = true;
  const res = await fetch(root.dataset.api, { method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key },
    body: JSON.stringify(body) }).catch(() => null);
  $('rate-send').disabled = false;
  if (res && res.status === 201) { key = null; status(''); done(await res.json()); return; }
  if (!res) { status('Not sent: you seem to be offline. Try again.'); return; }
  key = null;
  if (res.status === 409) { load(); return; }
  const problem = await res.json().catch(() => ({}));
  status(problem.detail || 'Your rating could not be sent.');
}

if (root) {
  $('rate-form').addEventListener('submit', submit);
  $('rate-form').addEventListener('change', paint);
  addEventListener('lastmile:status', (e) => { if (OVER.includes(e.detail.status)) load(); });
  addEventListener('hashchange', () => { if (location.hash === '#rate') open(); });
  load();
}
