// Positions while on shift: the phone's fixes, batched (one request per BATCH_MS, not one per
// fix) and handed to the outbox, which sends them in order with the driver's other actions.
export const BATCH_MS = 20000;

function fix(position, battery) {
  const c = position.coords;
  const finite = (v) => (v === null || v === undefined || Number.isNaN(v) ? null : v);
  return {
    t: new Date(position.timestamp).toISOString(), lat: c.latitude, lon: c.longitude,
    accuracy: finite(c.accuracy), speed: finite(c.speed), heading: finite(c.heading),
    battery,
  };
}

export class PositionReporter {
  constructor(onBatch, batchMs = BATCH_MS) {
    this.onBatch = onBatch;
    this.batchMs = batchMs;
    this.fixes = [];
    this.watch = null;
    this.timer = null;
    this.battery = null;
    this.error = null;
    this.last = null; // {lat, lon} of the latest fix, for the proof of an action
  }

  get running() { return this.watch !== null; }

  start(onState) {
    if (this.running || !('geolocation' in navigator)) return;
    if (navigator.getBattery) {
      navigator.getBattery().then((b) => {
        this.battery = b;
      }).catch(() => {});
    }
    this.watch = navigator.geolocation.watchPosition(
      (position) => {
        const level = this.battery ? this.battery.level : null;
        const next = fix(position, level);
        const previous = this.fixes[this.fixes.length - 1];
        if (!previous || previous.t !== next.t) this.fixes.push(next);
        this.last = { lat: next.lat, lon: next.lon };
        this.error = null;
        onState();
      },
      (error) => {
        this.error = error.code === error.PERMISSION_DENIED
          ? 'Location is blocked: allow it in the browser settings to share your position.'
          : 'Waiting for a GPS fix…';
        onState();
      },
      { enableHighAccuracy: true, maximumAge: 5000, timeout: 60000 },
    );
    this.timer = setInterval(() => this.flush(), this.batchMs);
  }

  /** Hands over the fixes taken so far (resolves once they are queued). */
  async flush() {
    if (this.fixes.length) await this.onBatch(this.fixes.splice(0, 1000));
  }

  stop() {
    if (!this.running) return;
    navigator.geolocation.clearWatch(this.watch);
    clearInterval(this.timer);
    this.watch = null;
    this.flush();
  }
}
