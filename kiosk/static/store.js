// IndexedDB on the device: the offline bundle (hashed, sealed), what this device admitted, the queue.
const NAME = "propusk-kiosk";
const VERSION = 1;
let opened = null;

export function openStore() {
  if (opened) return opened;
  opened = new Promise((resolve, reject) => {
    const req = indexedDB.open(NAME, VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      db.createObjectStore("entries", { keyPath: "h" }); // today's tickets by SHA-256 of the code
      db.createObjectStore("admitted", { keyPath: "h" }); // admitted here (never twice on this device)
      db.createObjectStore("queue", { keyPath: "scan_id" }); // offline scans waiting to sync
      db.createObjectStore("meta"); // keys, events, tenant id of the bundle
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  return opened;
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

function result(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

export async function get(store, key) {
  const db = await openStore();
  return result(db.transaction(store).objectStore(store).get(key));
}

export async function put(store, value, key) {
  const db = await openStore();
  const tx = db.transaction(store, "readwrite");
  tx.objectStore(store).put(value, key);
  return done(tx);
}

export async function remove(store, key) {
  const db = await openStore();
  const tx = db.transaction(store, "readwrite");
  tx.objectStore(store).delete(key);
  return done(tx);
}

export async function all(store) {
  const db = await openStore();
  return result(db.transaction(store).objectStore(store).getAll());
}

export async function count(store) {
  const db = await openStore();
  return result(db.transaction(store).objectStore(store).count());
}

/** Admit offline atomically: mark the ticket as admitted here AND queue the scan, or neither. */
export async function admitOffline(hash, item) {
  const db = await openStore();
  const tx = db.transaction(["admitted", "queue"], "readwrite");
  const admitted = tx.objectStore("admitted");
  const existing = await result(admitted.get(hash));
  if (existing) {
    tx.abort();
    return existing;
  }
  admitted.put({ h: hash, at: item.scanned_at, offline: true });
  tx.objectStore("queue").put(item);
  await done(tx);
  return null;
}

/** Replace the bundle in one transaction: a half-written bundle is never read. */
export async function replaceBundle(bundle) {
  const db = await openStore();
  const tx = db.transaction(["entries", "meta"], "readwrite");
  const entries = tx.objectStore("entries");
  entries.clear();
  for (const entry of bundle.entries) entries.put(entry);
  tx.objectStore("meta").put(
    { tenant_id: bundle.tenant_id, venue_id: bundle.venue_id, keys: bundle.keys, events: bundle.events, generated_at: bundle.generated_at },
    "bundle"
  );
  return done(tx);
}

export async function clearAll() {
  const db = await openStore();
  const tx = db.transaction(["entries", "admitted", "queue", "meta"], "readwrite");
  for (const name of ["entries", "admitted", "queue", "meta"]) tx.objectStore(name).clear();
  return done(tx);
}
