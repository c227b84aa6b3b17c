// The report page (/dashboard/reports): the period and grouping in the URL, KPI tiles and the
// table from GET /v1/reports/summary, the four SVG plots fetched with the bearer token and
// inlined, and the CSV downloaded the same way (a Blob), since links cannot send the token.
import { $, ApiError, call, h, ready, session } from '../dashboard/shell.js';

const GROUPS = { day: 'day', hub: 'hub', vehicle_type: 'vehicle type', driver: 'driver' };
const PLOTS = ['on_time', 'failure_reasons', 'co2_by_vehicle_type', 'eta_error'];
const numberFormat = (digits) => new Intl.NumberFormat('en-GB', {
  minimumFractionDigits: digits, maximumFractionDigits: digits,
});
const INT = numberFormat(0), ONE = numberFormat(1), TWO = numberFormat(2);

const pct = (rate) => (rate === null || rate === undefined ? '–' : `${ONE.format(rate * 100)} %`);
const num = (fmt) => (value) => (value === null || value === undefined ? '–' : fmt.format(value));
const green = (row) => (row.ev_share === null ? null : row.ev_share + row.bike_share);
const signed = (minutes) => (minutes === null ? '–'
  : `${minutes > 0 ? '+' : ''}${INT.format(minutes)} min`);
const stars = (row) => (row.rating_mean === null ? '–'
  : `${TWO.format(row.rating_mean)} ★ (${INT.format(row.ratings)})`);

// [heading, value of a row, numeric?]
const COLUMNS = [
  ['Group', (r) => r.label, false],
  ['Parcels', (r) => num(INT)(r.parcels_delivered), true],
  ['Orders', (r) => num(INT)(r.orders), true],
  ['First attempt', (r) => pct(r.first_attempt_rate), true],
  ['On time', (r) => pct(r.on_time_rate), true],
  ['Failed', (r) => num(INT)(r.failed), true],
  ['km', (r) => num(ONE)(r.km), true],
  ['Hours', (r) => num(ONE)(r.driving_hours), true],
  ['Cost / parcel', (r) => num(TWO)(r.cost_per_parcel), true],
  ['CO2e g / parcel', (r) => num(INT)(r.co2_g_per_parcel), true],
  ['EV + bike', (r) => pct(green(r)), true],
  ['Rating', stars, true],
  ['Arrival vs plan', (r) => signed(r.arrival_delay_median_min), true],
];

function params() {
  const query = new URLSearchParams(location.search);
  const chosen = new URLSearchParams();
  for (const name of ['from', 'to']) if (query.get(name)) chosen.set(name, query.get(name));
  chosen.set('group_by', GROUPS[query.get('group_by')] ? query.get('group_by') : 'day');
  return chosen;
}

function showError(message) {
  $('report-error').textContent = message;
  $('report-error').hidden = !message;
}

/** A GET with the token for a non-JSON answer (SVG, CSV); problems become ApiErrors. */
async function fetchRaw(url) {
  const response = await fetch(url, {
    headers: { Authorization: `Bearer ${session.token}` }, cache: 'no-store',
  });
  if (response.status === 401) {
    session.clear();
    location.reload();
  }
  if (!response.ok) {
    let problem = null;
    try { problem = await response.json(); } catch { /* not a problem document */ }
    throw new ApiError(response.status, problem);
  }
  return response;
}

function kpis(totals) {
  $('kpi-delivered').replaceChildren(num(INT)(totals.parcels_delivered),
    h('small', {}, `${INT.format(totals.delivered)} orders`));
  $('kpi-first-attempt').textContent = pct(totals.first_attempt_rate);
  $('kpi-on-time').replaceChildren(pct(totals.on_time_rate),
    h('small', {}, `of ${INT.format(totals.on_time_basis)} with a window`));
  $('kpi-cost').textContent = num(TWO)(totals.cost_per_parcel);
  $('kpi-co2').replaceChildren(num(INT)(totals.co2_g_per_parcel), h('small', {}, 'grams'));
  $('kpi-green').replaceChildren(pct(green(totals)), h('small', {}, totals.ev_share === null ? ''
    : `EV ${pct(totals.ev_share)} · bike ${pct(totals.bike_share)}`));
  $('kpi-rating').replaceChildren(totals.rating_mean === null ? '–' : `${TWO.format(totals.rating_mean)} ★`,
    h('small', {}, `${INT.format(totals.ratings)} ratings`));
}

function cells(row, tag) {
  return COLUMNS.map(([, value, numeric]) => h(tag, { class: numeric ? 'num' : null }, value(row)));
}

function table(summary) {
  $('table-group').textContent = GROUPS[summary.group_by];
  $('table-count').textContent = `${summary.rows.length} ${summary.rows.length === 1 ? 'row' : 'rows'}`;
  $('report-columns').replaceChildren(...COLUMNS.map(([title, , numeric]) =>
    h('th', { scope: 'col', class: numeric ? 'num' : null }, title)));
  $('report-rows').replaceChildren(...(summary.rows.length ? summary.rows.map((row) =>
    h('tr', { dataset: { key: row.key ?? '' } }, ...cells(row, 'td')))
    : [h('tr', {}, h('td', { class: 'empty', colSpan: COLUMNS.length },
      'No routes in these days.'))]));
  $('report-totals').replaceChildren(h('tr', {}, ...cells(summary.totals, 'th')));
}

async function plot(name, query) {
  const figure = document.querySelector(`[data-plot="${name}"]`);
  figure.setAttribute('aria-busy', 'true');
  try {
    const response = await fetchRaw(`/v1/reports/plots/${name}.svg?${query}`);
    const doc = new DOMParser().parseFromString(await response.text(), 'image/svg+xml');
    const svg = doc.documentElement;
    if (svg.nodeName !== 'svg') throw new Error('not an SVG');
    svg.removeAttribute('width'); // scale with the card; the viewBox keeps the proportions
    svg.removeAttribute('height');
    $(`plot-${name}`).replaceChildren(document.importNode(svg, true));
  } catch (error) {
    $(`plot-${name}`).replaceChildren(h('p', { class: 'empty' }, `Plot unavailable: ${error.message}`));
  } finally {
    figure.setAttribute('aria-busy', 'false');
  }
}

async function load() {
  const query = params();
  $('report').dataset.state = 'loading';
  showError('');
  try {
    const summary = await call('GET', `/v1/reports/summary?${query}`);
    // The server chose the default period (the organisation's today): show it and keep it.
    query.set('from', summary.from);
    query.set('to', summary.to);
    history.replaceState(null, '', `?${query}`);
    $('report-from').value = summary.from;
    $('report-to').value = summary.to;
    $('report-group').value = summary.group_by;
    $('report-grid').textContent = summary.grid_kg_co2e_per_kwh;
    $('report-range').textContent = `${summary.from} to ${summary.to}, by ${GROUPS[summary.group_by]}`;
    kpis(summary.totals);
    table(summary);
    const dates = new URLSearchParams({ from: summary.from, to: summary.to });
    await Promise.all(PLOTS.map((name) => plot(name, dates)));
    $('report').dataset.state = 'ready';
  } catch (error) {
    $('report').dataset.state = 'error';
    const fields = ((error.problem && error.problem.errors) || []).map((e) => e.message);
    showError([error.message, ...fields].join(' · '));
  }
}

function choose(event) {
  event.preventDefault();
  const query = new URLSearchParams({
    from: $('report-from').value, to: $('report-to').value, group_by: $('report-group').value,
  });
  history.pushState(null, '', `?${query}`);
  load();
}

async function download() {
  const button = $('download-csv');
  button.disabled = true;
  try {
    const response = await fetchRaw(`/v1/reports/summary.csv?${params()}`);
    const named = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') || '');
    const url = URL.createObjectURL(await response.blob());
    const link = h('a', { href: url, download: named ? named[1] : 'lastmile-report.csv', hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60e3);
  } catch (error) {
    showError(`Could not download the CSV: ${error.message}`);
  } finally {
    button.disabled = false;
  }
}

ready().then(() => {
  $('report-form').addEventListener('submit', choose);
  $('download-csv').addEventListener('click', download);
  window.addEventListener('popstate', load);
  load();
});
