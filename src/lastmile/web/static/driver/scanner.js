// Barcode input. A hand scanner paired as a keyboard ("keyboard wedge") types the code and
// Enter into the focused field, so a text input is the main scanner; where the browser has
// BarcodeDetector (Android Chrome), the phone's camera can read codes too.
export const BARCODE = /^[A-Za-z0-9._-]{4,64}$/;
const FORMATS = ['code_128', 'code_39', 'ean_13', 'ean_8', 'itf', 'qr_code', 'data_matrix'];
const SAME_CODE_MS = 2500; // a code held in front of the camera is read once, not ten times

export const cameraAvailable = () => 'BarcodeDetector' in window
  && Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);

/** Reads codes from the rear camera into ``video`` until the returned stop() is called. */
export async function startCamera(video, onCode) {
  const supported = await window.BarcodeDetector.getSupportedFormats();
  const detector = new window.BarcodeDetector({
    formats: FORMATS.filter((f) => supported.includes(f)),
  });
  const stream = await navigator.mediaDevices.getUserMedia(
    { video: { facingMode: 'environment' }, audio: false },
  );
  video.srcObject = stream;
  video.hidden = false;
  await video.play();
  let running = true, last = '', lastAt = 0;
  const tick = async () => {
    if (!running) return;
    try {
      for (const found of await detector.detect(video)) {
        const code = found.rawValue.trim(), now = Date.now();
        if (code && (code !== last || now - lastAt > SAME_CODE_MS)) {
          last = code; lastAt = now;
          onCode(code);
        }
      }
    } catch {
      // A frame that cannot be read (camera warming up): try the next one.
    }
    setTimeout(tick, 200);
  };
  tick();
  return () => {
    running = false;
    stream.getTracks().forEach((track) => track.stop());
    video.srcObject = null;
    video.hidden = true;
  };
}
