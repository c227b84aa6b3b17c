// multipart/form-data bodies built by hand, byte for byte the same on every replay: FormData
// cannot be stored in IndexedDB, and the browser would pick a new boundary on each send.
const CRLF = '\r\n';
const EXTENSIONS = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp' };

const safe = (name) => name.replace(/["\r\n]/g, '_');

/**
 * The body (a Blob) and Content-Type for ``fields``: [name, value] pairs in order, where a
 * value is a string, a number, a boolean or a Blob (sent as a file); empty values are left out.
 */
export function multipart(fields, boundary) {
  const parts = [];
  for (const [name, value] of fields) {
    if (value === undefined || value === null || value === '') continue;
    parts.push(`--${boundary}${CRLF}`);
    if (value instanceof Blob) {
      const type = value.type || 'application/octet-stream';
      const file = `${safe(name)}.${EXTENSIONS[type] || 'bin'}`;
      parts.push(
        `Content-Disposition: form-data; name="${safe(name)}"; filename="${file}"${CRLF}`,
        `Content-Type: ${type}${CRLF}${CRLF}`, value, CRLF,
      );
    } else {
      parts.push(`Content-Disposition: form-data; name="${safe(name)}"${CRLF}${CRLF}`,
        String(value), CRLF);
    }
  }
  parts.push(`--${boundary}--${CRLF}`);
  return { body: new Blob(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}
