// A signature pad: a canvas drawn on with a finger, stylus or mouse (pointer events).
const MIN_INK = 30; // canvas pixels of stroke before it counts as a signature, not a tap

export class SignaturePad {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.last = null;
    this.ink = 0;
    this.clear();
    canvas.addEventListener('pointerdown', (e) => this.down(e));
    canvas.addEventListener('pointermove', (e) => this.move(e));
    for (const type of ['pointerup', 'pointercancel', 'pointerleave']) {
      canvas.addEventListener(type, () => { this.last = null; });
    }
  }

  get empty() { return this.ink < MIN_INK; }

  clear() {
    const { ctx, canvas } = this;
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    Object.assign(ctx, { lineWidth: 4, lineCap: 'round', lineJoin: 'round', strokeStyle: '#111' });
    this.ink = 0;
    this.last = null;
  }

  point(e) {
    const box = this.canvas.getBoundingClientRect();
    return [(e.clientX - box.left) * (this.canvas.width / box.width),
      (e.clientY - box.top) * (this.canvas.height / box.height)];
  }

  down(e) {
    e.preventDefault();
    this.canvas.setPointerCapture(e.pointerId);
    this.last = this.point(e);
  }

  move(e) {
    if (!this.last) return;
    e.preventDefault();
    const { ctx } = this;
    // Coalesced events: every sample of a fast stroke, not one per frame.
    const samples = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
    for (const sample of samples.length ? samples : [e]) {
      const next = this.point(sample);
      ctx.beginPath();
      ctx.moveTo(...this.last);
      ctx.lineTo(...next);
      ctx.stroke();
      this.ink += Math.hypot(next[0] - this.last[0], next[1] - this.last[1]);
      this.last = next;
    }
  }

  /** The signature as a PNG Blob. */
  toBlob() {
    return new Promise((resolve, reject) => this.canvas.toBlob(
      (blob) => (blob ? resolve(blob) : reject(new Error('The signature could not be saved.'))),
      'image/png',
    ));
  }
}
