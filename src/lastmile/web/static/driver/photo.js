// Photos are shrunk on the phone before they are queued: a 12-megapixel camera file would
// take minutes on a weak connection and fill the offline queue. Re-encoding also drops the
// EXIF block (with the phone's own GPS trail) from what is uploaded.
export const MAX_SIDE = 1280;

/** A JPEG of ``file`` whose longer side is at most ``max`` pixels, upright. */
export async function resizePhoto(file, max = MAX_SIDE, quality = 0.82) {
  const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  const scale = Math.min(1, max / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(bitmap.width * scale));
  canvas.height = Math.max(1, Math.round(bitmap.height * scale));
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff'; // JPEG has no transparency: white, not black, behind a PNG's holes
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  return new Promise((resolve, reject) => canvas.toBlob(
    (blob) => (blob ? resolve(blob) : reject(new Error('This photo could not be read.'))),
    'image/jpeg', quality,
  ));
}
