// IndexedDB: the queue of actions waiting to be sent (with their photo and signature blobs).
// It outlives reloads, crashes and a closed browser; localStorage could not hold the blobs.
const NAME = 'lastmile-driver';
const QUEUE = 'queue';
let opening = null;

function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function open() {
  if (!opening) {
    const request = indexedDB.open(NAME, 1);
    request.onupgradeneeded = () => {
      // seq (auto-increment) is the order the driver acted in: the order of replay.
      request.result.createObjectStore(QUEUE, { keyPath: 'seq', autoIncrement: true });
    };
    opening = promised(request);
  }
  return opening;
}

async function withStore(mode, work) {
  const db = await open();
  const tx = db.transaction(QUEUE, mode);
  const result = await work(tx.objectStore(QUEUE));
  await new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
  return result;
}

/** Every queued item, oldest first. */
export const allItems = () => withStore('readonly', (store) => promised(store.getAll()));

/** Adds an item; resolves to it with its sequence number. */
export const addItem = (item) => withStore('readwrite', async (store) => {
  const seq = await promised(store.add(item));
  return { ...item, seq };
});

export const putItem = (item) => withStore('readwrite', (store) => promised(store.put(item)));

export const deleteItem = (seq) => withStore('readwrite', (store) => promised(store.delete(seq)));
