// Offline admission: verify the signed code with the region's public keys (noble-ed25519), find its
// sealed entry by SHA-256 of the code, and open the door details with a key derived from the code.
import { verifyAsync } from "/static/vendor/noble-ed25519/ed25519.js";

export const KIND_TICKET = 1;
export const KIND_ESCORT = 2;
const CODE_LENGTH = 125;
const HEADER = 14; // kind/version, key id, tenant id, object id, event id
const SALT = new TextEncoder().encode("propusk/kiosk-offline/v1");
const INFO = new TextEncoder().encode("door-details");
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

export function normaliseCode(raw) {
  return String(raw || "").trim().toUpperCase();
}

function base32(text) {
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let bits = 0;
  let value = 0;
  let index = 0;
  for (const ch of text) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) return null;
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out[index++] = (value >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
  }
  return out;
}

/** The code's header fields, or null when it is not one of our codes (signature not checked). */
export function parseCode(code) {
  if (code.length !== CODE_LENGTH) return null;
  const raw = base32(code);
  if (!raw || raw.length !== HEADER + 64) return null;
  const view = new DataView(raw.buffer);
  const versionKind = view.getUint8(0);
  if (versionKind >> 4 !== 1) return null;
  return {
    kind: versionKind & 0x0f,
    keyId: view.getUint8(1),
    tenantId: view.getUint32(2),
    objectId: view.getUint32(6),
    eventId: view.getUint32(10),
    header: raw.slice(0, HEADER),
    signature: raw.slice(HEADER),
  };
}

export function codeKind(code) {
  const parsed = parseCode(normaliseCode(code));
  return parsed ? parsed.kind : null;
}

function fromBase64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

export async function sha256hex(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Is this a genuine code of the bundle's region? (Ed25519 over the header, key by id.) */
export async function verifyCode(parsed, meta) {
  if (!parsed || !meta || parsed.tenantId !== meta.tenant_id) return false;
  const key = meta.keys[String(parsed.keyId)];
  if (!key) return false;
  try {
    return await verifyAsync(parsed.signature, parsed.header, fromBase64(key));
  } catch (e) {
    return false;
  }
}

/** Open the sealed door details: AES-256-GCM, key = HKDF-SHA256(code), associated data = hash. */
export async function unseal(code, blob, hash) {
  const material = await crypto.subtle.importKey("raw", new TextEncoder().encode(code), "HKDF", false, ["deriveKey"]);
  const key = await crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: SALT, info: INFO },
    material,
    { name: "AES-GCM", length: 256 },
    false,
    ["decrypt"]
  );
  const raw = fromBase64(blob);
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: raw.slice(0, 12), additionalData: new TextEncoder().encode(hash) },
    key,
    raw.slice(12)
  );
  return JSON.parse(new TextDecoder().decode(plain));
}
