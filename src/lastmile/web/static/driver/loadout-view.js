// The load-out screen at the depot: scan (or type) each parcel as it goes into the vehicle;
// missing parcels of the route and barcodes that are not on it are flagged as the API answers.
import { $, make, plural, setText, toast } from './dom.js';
import { BARCODE, cameraAvailable, startCamera } from './scanner.js';

export class LoadoutScreen {
  /** ``actions``: {scan(route, code), finish(route)}, each a Promise. */
  constructor(actions) {
    this.actions = actions;
    this.route = null;
    // Barcodes the API said are not on this route: {code: 'extra' | 'unknown' | 'unchecked'}.
    // The API does not keep them, so this phone does, for the rest of the load-out.
    this.strays = new Map();
    this.stopCamera = null;
    $('scan-form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit();
    });
    $('loadout-finish').addEventListener('click', () => this.actions.finish(this.route));
    const camera = $('camera-scan');
    camera.hidden = !cameraAvailable();
    camera.addEventListener('click', () => this.toggleCamera());
  }

  expected() {
    return this.route.stops.flatMap(
      (s) => s.orders.flatMap((o) => o.parcels.map((p) => p.barcode)),
    );
  }

  async submit() {
    const input = $('scan-input');
    const code = input.value.trim();
    input.value = '';
    input.focus();
    await this.scan(code);
  }

  async scan(code) {
    const error = $('scan-error');
    error.hidden = true;
    if (!code) return;
    if (!BARCODE.test(code)) {
      error.textContent = `"${code}" is not a parcel barcode (4 to 64 letters, digits, . _ -).`;
      error.hidden = false;
      return;
    }
    const known = new Set(this.expected());
    if (known.has(code) && !this.route.loadout.missing.includes(code)) {
      toast(`${code} is already loaded`);
      return;
    }
    if (!known.has(code)) this.strays.set(code, this.strays.get(code) || 'unchecked');
    await this.actions.scan(this.route, code);
  }

  /** The API's answer to a scan: which of its barcodes are not on this route. */
  answered(data) {
    for (const code of data.extra) this.strays.set(code, 'extra');
    for (const code of data.unknown) this.strays.set(code, 'unknown');
    if (data.newly_loaded.length) toast(`Loaded ${data.newly_loaded.join(', ')}`, 'ok');
    for (const code of [...data.extra, ...data.unknown]) {
      toast(`${code} is not on this route: put it aside`, 'bad');
    }
  }

  render(route) {
    if (!this.route || this.route.id !== route.id) this.strays.clear();
    this.route = route;
    const { missing, expected, completed_at: completed } = route.loadout;
    const missingSet = new Set(missing);
    const loaded = this.expected().filter((code) => !missingSet.has(code));
    setText($('loadout-progress'), `${loaded.length} of ${plural(expected, 'parcel')} loaded`
      + (completed ? ' · finished' : ''));
    const list = (id, codes, note) => $(id).replaceChildren(...codes.map((code) => {
      const li = make('li', code);
      li.dataset.barcode = code;
      if (note) li.append(make('span', note(code), 'barcode-note'));
      return li;
    }));
    const NOTES = { extra: 'another route', unknown: 'unknown barcode',
      unchecked: 'not checked yet (offline)' };
    const strays = [...this.strays.keys()];
    list('missing-list', missing);
    list('extra-list', strays, (code) => NOTES[this.strays.get(code)]);
    list('loaded-list', loaded);
    setText($('missing-count'), String(missing.length));
    setText($('extra-count'), String(strays.length));
    setText($('loaded-count'), String(loaded.length));
    const finish = $('loadout-finish');
    finish.hidden = Boolean(completed);
    setText(finish, missing.length ? `Finish with ${plural(missing.length, 'parcel')} missing`
      : 'Finish load-out');
    finish.dataset.tone = missing.length ? 'warn' : 'ok';
  }

  async toggleCamera() {
    if (this.stopCamera) {
      this.stopCamera();
      this.stopCamera = null;
      setText($('camera-scan'), 'Scan with camera');
      return;
    }
    try {
      this.stopCamera = await startCamera($('camera'), (code) => this.scan(code));
      setText($('camera-scan'), 'Stop camera');
    } catch (error) {
      toast(`The camera is not available: ${error.message}`, 'bad');
    }
  }

  /** Leaving the screen turns the camera off. */
  leave() {
    if (this.stopCamera) this.toggleCamera();
  }
}
