// Service worker of the driver app, rendered by lastmile/driver/page.py with the shell's file
// list. It keeps the app usable without a network: the shell comes from the cache, the route
// of the day from the network when it answers and from the last saved copy when it does not.
// Actions are not its business: the page queues them in IndexedDB and replays them itself.
'use strict';
const VERSION = {{ version | tojson }};
const SHELL = {{ shell | tojson }};
const SCOPE = {{ scope | tojson }};
const SHELL_CACHE = `driver-shell-${VERSION}`;
const DATA_CACHE = 'driver-data';
const TODAY = '/v1/driver/today';

self.addEventListener('install', (event) => {
  // cache: 'reload' bypasses the HTTP cache, so a new version never stores stale files.
  event.waitUntil(caches.open(SHELL_CACHE)
    .then((cache) => cache.addAll(SHELL.map((url) => new Request(url, { cache: 'reload' }))))
    .then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys
      .filter((key) => key.startsWith('driver-shell-') && key !== SHELL_CACHE)
      .map((key) => caches.delete(key))))
    .then(() => self.clients.claim()));
});

async function shell(request) {
  const cache = await caches.open(SHELL_CACHE);
  return (await cache.match(request, { ignoreSearch: true })) || fetch(request);
}

async function page(request) {
  try {
    return await fetch(request);
  } catch (error) {
    const cached = await caches.match(SCOPE, { cacheName: SHELL_CACHE });
    if (cached) return cached;
    throw error;
  }
}

// The route of the day: network first; a copy (stamped with when it was saved) for offline.
async function today(request) {
  const cache = await caches.open(DATA_CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) {
      const headers = new Headers(response.headers);
      headers.set('X-Lastmile-Saved-At', new Date().toISOString());
      const copy = new Response(await response.clone().blob(), { status: 200, headers });
      await cache.put(TODAY, copy);
    }
    return response;
  } catch (error) {
    const cached = await cache.match(TODAY);
    if (cached) return cached;
    throw error;
  }
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === 'navigate' && (url.pathname === SCOPE || url.pathname === `${SCOPE}/`)) {
    event.respondWith(page(request));
  } else if (url.pathname === TODAY && !url.search) {
    event.respondWith(today(request));
  } else if (SHELL.includes(url.pathname) && url.pathname !== SCOPE) {
    event.respondWith(shell(request));
  }
});
