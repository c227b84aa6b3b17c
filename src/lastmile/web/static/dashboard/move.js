// The "move stop" dialog: choose a target route, see the server's dry-run check (feasible?
// extra km and minutes, slack left) and only then confirm. Used by the live and planning pages.
import { $, ApiError, call, failed, h, toast } from './shell.js';
import { number, signed, time } from './format.js';

const CONSTRAINTS = {
  payload: 'too heavy for the drone', capacity: 'the vehicle is full',
  skills: 'the driver or vehicle lacks a needed skill', window: 'it cannot arrive in the window',
  downstream_windows: 'later stops of that route would miss their windows',
  shift_end: 'the driver’s shift would end first', position: 'that place is already driven',
  state: 'the stop can no longer move',
};

const stopUrl = (routeId, stopId) => `/v1/routes/${encodeURIComponent(routeId)}/stops/`
  + `${encodeURIComponent(stopId)}/move`;

export class MoveDialog {
  /** `onMoved(result)` runs after a confirmed move (the server's answer). */
  constructor({ onMoved }) {
    this.onMoved = onMoved;
    this.dialog = $('move-dialog');
    this.subject = null;
    $('move-target').addEventListener('change', () => this.check());
    $('move-cancel').addEventListener('click', () => this.dialog.close());
    $('move-form').addEventListener('submit', (event) => { event.preventDefault(); this.confirm(); });
  }

  /**
   * Opens the dialog for one stop. `targets`: [{route_id, label}] of the other routes of the
   * day the stop could go to.
   */
  open({ routeId, stopId, title, sub, targets }) {
    this.subject = { routeId, stopId, checked: null };
    $('move-title').textContent = title;
    $('move-sub').textContent = sub || '';
    $('move-target').replaceChildren(h('option', { value: '' }, 'Choose a route…'),
      ...targets.map((t) => h('option', { value: t.route_id }, t.label)));
    $('move-check').replaceChildren(h('p', { class: 'muted' },
      'Choose a route: the move is checked before you confirm.'));
    $('move-confirm').disabled = true;
    this.dialog.showModal();
  }

  async check() {
    const target = $('move-target').value, subject = this.subject;
    $('move-confirm').disabled = true;
    subject.checked = null;
    if (!target) return;
    $('move-check').replaceChildren(h('p', { class: 'muted' }, 'Checking…'));
    let result;
    try {
      result = await call('POST', `${stopUrl(subject.routeId, subject.stopId)}:check`,
        { json: { to_route_id: target } });
    } catch (error) {
      if (this.subject !== subject) return;
      const reason = error instanceof ApiError ? error.message : String(error);
      $('move-check').replaceChildren(h('p', { class: 'verdict verdict--bad' }, reason));
      return;
    }
    if (this.subject !== subject || $('move-target').value !== target) return;
    subject.checked = result;
    $('move-check').replaceChildren(...verdict(result));
    $('move-confirm').disabled = !result.feasible;
  }

  async confirm() {
    const subject = this.subject, checked = subject && subject.checked;
    if (!checked || !checked.feasible) return;
    $('move-confirm').disabled = true;
    try {
      const moved = await call('POST', stopUrl(subject.routeId, subject.stopId), {
        json: { to_route_id: checked.to_route_id, position: checked.position } });
      this.dialog.close();
      toast(`Stop moved: now stop ${moved.stop.position} of the other route.`, 'ok');
      await this.onMoved(moved);
    } catch (error) {
      failed(error, 'Not moved');
      $('move-confirm').disabled = false;
    }
  }
}

function verdict(r) {
  if (!r.feasible) {
    const why = CONSTRAINTS[r.constraint] || r.constraint || 'it does not fit';
    return [h('p', { class: 'verdict verdict--bad', dataset: { feasible: 'false' } },
      `Not possible: ${why}.`, r.reason ? ` ${r.reason}` : '')];
  }
  const delta = (label, value, unit, digits = 1) => h('div', { class: 'delta' },
    h('span', { class: 'muted' }, label),
    h('b', { class: value > 0 ? 'up' : value < 0 ? 'down' : '' }, `${signed(value, digits)} ${unit}`));
  return [
    h('p', { class: 'verdict verdict--ok', dataset: { feasible: 'true' } },
      `Fits as stop ${r.position}, arriving ${time(r.planned_arrival)}.`),
    h('div', { class: 'deltas' },
      delta('Target route', r.extra_km, 'km'),
      delta('Source route', -r.saved_km, 'km'),
      delta('Later stops', r.extra_minutes, 'min')),
    h('p', { class: 'muted' }, r.min_slack_minutes === null || r.min_slack_minutes === undefined
      ? 'No later stops on that route.'
      : `Tightest later stop keeps ${number(r.min_slack_minutes)} min of slack.`),
  ];
}
