// The stop screen: where to go, what to hand over, the arrive / deliver / fail actions with
// their proof (photo resized on the phone, signature drawn on a canvas), and each order's chat.
import { ChatPanel } from './chat-view.js';
import { $, METHODS, REASONS, STATUS, languageName, make, setText, words } from './dom.js';
import { resizePhoto } from './photo.js';
import { isClosed } from './projection.js';
import { SignaturePad } from './signature.js';

/** What a delivery needs, from the API's ``requires`` (or the order's flags if absent). */
function requirements(order, policy) {
  const method = order.delivery_method;
  return order.requires || {
    recipient_name: !['safe_place', 'locker'].includes(method),
    photo: (policy.photo_required_for_methods || []).includes(method),
    signature: order.signature_required,
    age_check: order.age_check,
  };
}

function facts(order) {
  const address = order.address || {};
  const rows = [
    ['Reference', order.merchant_reference],
    ['Customer', order.customer_first_name],
    ['Language', languageName(order.customer_language)],
    ['Address', address.text],
    ['Access', address.access_notes],
    ['Delivery', METHODS[order.delivery_method] || words(order.delivery_method)],
    ['Safe place', order.safe_place
      ? [words(order.safe_place), order.safe_place_note].filter(Boolean).join(' · ') : null],
    ['Pickup point', order.pickup_point && order.pickup_point.name],
    ['Instructions', order.instructions],
    ['Parcels', order.parcels.map((p) => p.barcode).join(', ')],
    ['Signature', order.signature_required ? 'Required' : null],
    ['ID check', order.age_check ? 'Check photo ID: 18 or older' : null],
  ];
  return rows.filter(([, value]) => value).flatMap(([key, value]) => {
    const dd = make('dd', value);
    if (key === 'Signature' || key === 'ID check') dd.className = 'must';
    return [make('dt', key), dd];
  });
}

function need(el, required) {
  for (const badge of el.querySelectorAll('.need')) {
    badge.textContent = required ? 'required' : 'optional';
  }
  el.dataset.required = String(required);
}

function formError(form, message) {
  const el = form.querySelector('.form-error');
  el.textContent = message || '';
  el.hidden = !message;
}

/** A photo field: resizes the picked image and previews it; ``blob()`` gives the JPEG. */
function photoField(field) {
  const input = field.querySelector('.photo-input');
  const preview = field.querySelector('.photo-preview');
  let blob = null;
  input.addEventListener('change', async () => {
    const file = input.files && input.files[0];
    if (!file) return;
    try {
      blob = await resizePhoto(file);
    } catch (error) {
      blob = null;
      formError(field.closest('form'), error.message);
      return;
    }
    if (preview.src) URL.revokeObjectURL(preview.src);
    preview.src = URL.createObjectURL(blob);
    preview.hidden = false;
    field.querySelector('.photo-button').firstChild.textContent = 'Retake photo ';
    field.dataset.ready = 'true';
  });
  return { blob: () => blob };
}

export class StopScreen {
  /**
   * ``actions``: {arrive(stop), deliver(order, fields), fail(order, fields),
   * say(order, payload, text)}, each a Promise; ``chats``: the conversations (chat.js).
   */
  constructor(actions, chats) {
    this.actions = actions;
    this.chats = chats;
    this.cards = new Map();
    this.stop = null;
    $('arrive').addEventListener('click', () => this.actions.arrive(this.stop));
  }

  /** ``outgoing``: chat messages waiting in the outbox. */
  render(stop, route, { clock, policy, changed, outgoing }) {
    if (!this.stop || this.stop.id !== stop.id) {
      this.cards.clear();
      $('stop-orders').replaceChildren();
    }
    this.stop = stop;
    setText($('stop-eyebrow'), `Stop ${stop.position} of ${route.stops.length}`);
    setText($('stop-title'), stop.label || stop.orders.map((o) => o.address.text).join(' · '));
    const eta = stop.eta_earliest ? ` · ETA ${clock.span(stop.eta_earliest, stop.eta_latest)}` : '';
    setText($('stop-times'), `Planned ${clock.time(stop.planned_arrival)}${eta}`);
    const nav = stop.navigation || {};
    $('navigate-geo').href = nav.geo || `geo:${stop.lat},${stop.lon}`;
    $('navigate-maps').href = nav.maps_url || '#';
    $('navigate-maps').hidden = !nav.maps_url;
    const closed = stop.orders.every(isClosed);
    const here = stop.status === 'arrived' || stop.status === 'departed';
    $('arrive').hidden = here || closed;
    $('stop-state').hidden = !here;
    setText($('stop-state'),
      stop.arrived_at ? `Arrived at ${clock.time(stop.arrived_at)}` : 'Arrived');
    for (const order of stop.orders) {
      if (!this.cards.has(order.id)) this.cards.set(order.id, this.card(order, policy));
      const card = this.cards.get(order.id);
      this.update(card, order, policy, changed.get(order.id));
      card.chat.draw(order, { clock, outgoing });
    }
  }

  card(order, policy) {
    const el = $('order-card').content.firstElementChild.cloneNode(true);
    el.dataset.order = order.id;
    $('stop-orders').append(el);
    const deliverForm = el.querySelector('.proof--deliver');
    const failForm = el.querySelector('.proof--fail');
    const card = { el, order, deliverForm, failForm, pad: null,
      deliverPhoto: photoField(deliverForm.querySelector('.photo-field')),
      failPhoto: photoField(failForm.querySelector('.photo-field')) };
    card.chat = new ChatPanel(el.querySelector('.chat'), order.id, this.chats,
      (payload, text) => this.actions.say(card.order, payload, text));
    card.pad = new SignaturePad(deliverForm.querySelector('.signature'));
    deliverForm.querySelector('.signature-clear').addEventListener('click', () => card.pad.clear());
    const reason = failForm.querySelector('.reason');
    reason.replaceChildren(make('option', 'Choose a reason…'),
      ...(policy.failure_reasons || Object.keys(REASONS)).map((code) => {
        const option = make('option', REASONS[code] || words(code));
        option.value = code;
        return option;
      }));
    reason.firstElementChild.value = '';
    const photoFor = (code) => (policy.photo_required_for_reasons || []).includes(code);
    reason.addEventListener('change', () => need(failForm.querySelector('.photo-field'),
      photoFor(reason.value)));
    need(failForm.querySelector('.photo-field'), false);
    const toggle = (show, hide) => {
      hide.hidden = true;
      show.hidden = !show.hidden;
      if (!show.hidden) show.scrollIntoView({ block: 'start', behavior: 'smooth' });
    };
    el.querySelector('.order__deliver')
      .addEventListener('click', () => toggle(deliverForm, failForm));
    el.querySelector('.order__fail')
      .addEventListener('click', () => toggle(failForm, deliverForm));
    // One action per tap: a second tap while the first is being stored is ignored.
    const once = (work) => async (e) => {
      e.preventDefault();
      if (card.busy) return;
      card.busy = true;
      try {
        await work(card, policy);
      } finally {
        card.busy = false;
      }
    };
    deliverForm.addEventListener('submit', once((c, p) => this.deliver(c, p)));
    failForm.addEventListener('submit', once((c, p) => this.fail(c, p)));
    return card;
  }

  update(card, order, policy, changes) {
    card.order = order;
    const { el, deliverForm } = card;
    setText(el.querySelector('.order__name'),
      [order.customer_first_name, order.merchant_reference].filter(Boolean).join(' · '));
    const chip = el.querySelector('.order__status');
    setText(chip, order.queued ? `${STATUS[order.status]} · not sent yet` : STATUS[order.status]
      || words(order.status));
    chip.dataset.tone = { delivered: 'ok', failed: 'bad' }[order.status] || 'muted';
    let note = el.querySelector('.changed');
    if (changes && !note) {
      note = make('p', '', 'changed');
      el.querySelector('.order__head').after(note);
    }
    if (note) {
      note.hidden = !changes;
      setText(note, changes ? `Changed by the customer: ${changes.join(', ')}` : '');
    }
    el.querySelector('.facts').replaceChildren(...facts(order));
    const closed = isClosed(order);
    el.querySelector('.order__actions').hidden = closed;
    if (closed) {
      deliverForm.hidden = true;
      card.failForm.hidden = true;
    }
    const needs = requirements(order, policy);
    need(deliverForm.querySelector('.photo-field'), needs.photo);
    need(deliverForm.querySelector('.signature-field'), needs.signature);
    need(deliverForm.querySelector('.recipient-label'), needs.recipient_name);
    deliverForm.querySelector('.age-field').hidden = !needs.age_check;
  }

  async deliver(card, policy) {
    const { order, deliverForm: form } = card;
    const needs = requirements(order, policy);
    const recipient = form.querySelector('.recipient').value.trim();
    const ageChecked = form.querySelector('.age-checked').checked;
    const photo = card.deliverPhoto.blob();
    const missing = [
      needs.photo && !photo && 'a photo',
      needs.signature && card.pad.empty && 'a signature',
      needs.recipient_name && !recipient && "the recipient's name",
      needs.age_check && !ageChecked && 'the ID check',
    ].filter(Boolean);
    if (missing.length) {
      formError(form, `Still needed: ${missing.join(', ')}.`);
      return;
    }
    formError(form, '');
    const signature = card.pad.empty ? null : await card.pad.toBlob();
    await this.actions.deliver(order, {
      recipient, photo, signature, ageChecked: needs.age_check ? ageChecked : undefined,
      note: form.querySelector('.note').value.trim(),
    });
  }

  async fail(card, policy) {
    const { order, failForm: form } = card;
    const reason = form.querySelector('.reason').value;
    const photo = card.failPhoto.blob();
    if (!reason) {
      formError(form, 'Choose why the delivery failed.');
      return;
    }
    if ((policy.photo_required_for_reasons || []).includes(reason) && !photo) {
      formError(form, `A photo is needed when the reason is "${REASONS[reason] || reason}".`);
      return;
    }
    formError(form, '');
    const note = form.querySelector('.note').value.trim();
    await this.actions.fail(order, { reason, photo, note });
  }
}
