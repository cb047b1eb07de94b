// Propusk kiosk: pair once, then scan (wedge scanner or camera), answer in full-screen colour.
// Online every scan goes to the API; with the network gone the kiosk verifies signed codes itself,
// admits from its sealed bundle, queues the scans in IndexedDB and syncs them when back online.
import { beep, unlockAudio } from "./sound.js";
import { Camera } from "./camera.js";
import * as store from "./store.js";
import { KIND_ESCORT, codeKind, normaliseCode, parseCode, sha256hex, unseal, verifyCode } from "./offline.js";

const $ = (id) => document.getElementById(id);
// A new element with its class and text: every list on the kiosk is built from these.
function el(tag, className = "", text = "") {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}
const SETTINGS = "propusk.kiosk";
const REQUEST_TIMEOUT = 5000;
const RESULT_MS = { ok: 2200, warn: 4000, bad: 4500 };
const TITLES = { ok: "Проходите", warn: "Уже прошёл", bad: "Не проходит" };
const TONE = {
  ok: "ok",
  already_checked_in: "warn",
  cancelled: "bad",
  wrong_venue: "bad",
  outside_window: "bad",
  invalid: "bad",
};

const state = {
  settings: null,
  online: navigator.onLine,
  queued: 0,
  admittedToday: 0,
  events: [],
  resultTimer: null,
  group: null,
  ticked: new Set(),
  syncing: false,
};

// --- settings and API ---------------------------------------------------------------------------

function loadSettings() {
  try {
    return JSON.parse(localStorage.getItem(SETTINGS) || "null");
  } catch (e) {
    return null;
  }
}

class Offline extends Error {}
class Revoked extends Error {}

async function api(method, path, body) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT);
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (state.settings && state.settings.token) headers.Authorization = `Bearer ${state.settings.token}`;
  let response;
  try {
    const base = path.startsWith("/api/") ? "" : `/api/v1/${state.settings.tenant.slug}`;
    response = await fetch(base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: controller.signal,
      cache: "no-store",
    });
  } catch (e) {
    throw new Offline(String(e));
  } finally {
    clearTimeout(timer);
  }
  if (response.status >= 502 && response.status <= 504) throw new Offline(`HTTP ${response.status}`);
  const data = await response.json().catch(() => ({}));
  if (response.status === 401 && state.settings) throw new Revoked();
  if (!response.ok) {
    const error = new Error((data.error && data.error.message) || `Ошибка ${response.status}`);
    error.status = response.status;
    throw error;
  }
  setOnline(true);
  return data;
}

function newScanId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

// --- screens ------------------------------------------------------------------------------------

function show(id) {
  for (const screen of document.querySelectorAll(".k-screen")) screen.hidden = screen.id !== id;
  if (id === "screen-ready") focusWedge();
}

function focusWedge() {
  const panelOpen = !$("screen-search").hidden || !$("screen-group").hidden || !$("screen-pair").hidden;
  if (!panelOpen) $("wedge").focus({ preventScroll: true });
}

function setOnline(online) {
  state.online = online;
  renderStatus();
  if (online) sync();
}

async function renderStatus() {
  state.queued = await store.count("queue").catch(() => 0);
  const el = $("net-status");
  el.classList.toggle("k-net-online", state.online && state.queued === 0);
  el.classList.toggle("k-net-offline", !state.online);
  el.classList.toggle("k-net-sync", state.online && state.queued > 0);
  if (!state.online) el.textContent = `нет сети — ${state.queued} в очереди`;
  else if (state.queued > 0) el.textContent = `отправка — ${state.queued} в очереди`;
  else el.textContent = "на связи";
  $("admitted-today").textContent = String(state.admittedToday);
}

function timeOf(iso) {
  // Always the region's wall clock (the tablet's own timezone may be anything).
  if (!iso) return "";
  const options = { hour: "2-digit", minute: "2-digit" };
  const zone = state.settings && state.settings.tenant && state.settings.tenant.timezone;
  if (zone) options.timeZone = zone;
  try {
    return new Date(iso).toLocaleTimeString("ru-RU", options);
  } catch (e) {
    delete options.timeZone;
    return new Date(iso).toLocaleTimeString("ru-RU", options);
  }
}

function showResult(answer) {
  const tone = TONE[answer.result] || "bad";
  const screen = $("screen-result");
  screen.className = `k-result k-result-${tone}`;
  screen.dataset.result = answer.result;
  $("result-title").textContent = TITLES[tone];
  const t = answer.ticket;
  $("result-name").textContent = t ? t.short_name : "";
  $("result-details").textContent = t ? [`${t.grade} класс`, t.school, t.event].filter(Boolean).join(" · ") : "";
  const message = answer.message || "";
  $("result-message").textContent = message.toUpperCase() === TITLES[tone].toUpperCase() ? "" : message;
  $("result-foot").textContent = state.online ? "нажмите, чтобы продолжить" : `нет сети — ${state.queued} в очереди`;
  screen.hidden = false;
  beep(tone);
  clearTimeout(state.resultTimer);
  state.resultTimer = setTimeout(hideResult, RESULT_MS[tone]);
  focusWedge();
}

function hideResult() {
  clearTimeout(state.resultTimer);
  $("screen-result").hidden = true;
  focusWedge();
}

// --- pairing ------------------------------------------------------------------------------------

function pairingCodeFrom(text) {
  const match = /#pair=([A-Za-z0-9-]+)/.exec(text);
  return (match ? match[1] : text).trim();
}

async function pair(code) {
  const message = $("pair-message");
  message.textContent = "Привязываем…";
  try {
    const data = await api("POST", "/api/v1/kiosk/pair", { pairing_code: pairingCodeFrom(code) });
    state.settings = { token: data.token, tenant: data.tenant, venue: data.venue, kiosk: data.kiosk };
    localStorage.setItem(SETTINGS, JSON.stringify(state.settings));
    await store.clearAll();
    message.textContent = "";
    pairCamera.stop();
    await startKiosk();
  } catch (e) {
    message.textContent = e instanceof Offline ? "Нет сети: привязка возможна только онлайн." : e.message;
  }
}

async function unpair(reason) {
  localStorage.removeItem(SETTINGS);
  state.settings = null;
  await store.clearAll().catch(() => {});
  camera.stop();
  show("screen-pair");
  $("pair-message").textContent = reason || "";
  $("pair-code").focus();
}

// --- scanning -----------------------------------------------------------------------------------

async function handleCode(raw) {
  if (!state.settings) return;
  let code = normaliseCode(raw);
  if (!code) return;
  if (code.length > 125 && parseCode(code.slice(-125))) code = code.slice(-125);
  if (codeKind(code) === KIND_ESCORT) return openGroup(code);
  const scanId = newScanId();
  if (!state.online) return admitOffline(code, scanId);
  try {
    const answer = await api("POST", "/checkins", { code, scan_id: scanId });
    if (answer.result === "ok") {
      state.admittedToday += 1;
      await store.put("admitted", { h: await sha256hex(code), at: answer.checked_in_at });
      refreshToday();
    }
    renderStatus();
    showResult(answer);
  } catch (e) {
    if (e instanceof Offline) {
      setOnline(false);
      return admitOffline(code, scanId);
    }
    if (e instanceof Revoked) return unpair("Киоск отозван координатором. Получите новый код привязки.");
    showResult({ result: "invalid", message: e.message });
  }
}

async function admitOffline(code, scanId) {
  const meta = await store.get("meta", "bundle");
  const hash = await sha256hex(code);
  const refuse = (result, message) => showResult({ result, message });
  const mine = await store.get("admitted", hash);
  if (mine) return refuse("already_checked_in", `Уже прошёл в ${timeOf(mine.at)} · на этом входе`);
  const parsed = parseCode(code);
  if (!meta) return refuse("invalid", "Нет сети и нет списка на сегодня: проверка невозможна");
  if (!(await verifyCode(parsed, meta)) || parsed.kind !== 1) return refuse("invalid", "Билет недействителен");
  const entry = await store.get("entries", hash);
  if (entry && entry.s === "cancelled") return refuse("cancelled", "Билет аннулирован");
  if (entry && entry.a) return refuse("already_checked_in", `Уже прошёл в ${timeOf(entry.a)}`);
  const event = meta.events.find((e) => e.id === parsed.eventId);
  if (!event) return refuse("wrong_venue", "Билет не на эту площадку или не на сегодня");
  if (event.format === "online") return refuse("wrong_venue", "Это онлайн-событие: вход по личной ссылке");
  const now = new Date();
  if (now < new Date(event.opens_at)) return refuse("outside_window", `Вход ещё не открыт: откроется в ${timeOf(event.opens_at)}`);
  if (now >= new Date(event.ends_at)) return refuse("outside_window", `Событие уже закончилось (в ${timeOf(event.ends_at)})`);
  let ticket = { short_name: "Билет подлинный", grade: "", school: "", event: event.title };
  if (entry && entry.d) {
    try {
      ticket = await unseal(code, entry.d, hash);
    } catch (e) {
      return refuse("invalid", "Билет недействителен");
    }
  }
  const item = { scan_id: scanId, code, scanned_at: now.toISOString() };
  const earlier = await store.admitOffline(hash, item);
  if (earlier) return refuse("already_checked_in", `Уже прошёл в ${timeOf(earlier.at)} · на этом входе`);
  state.admittedToday += 1;
  const row = state.events.find((e) => e.id === event.id);
  if (row) row.checked_in += 1;
  renderEvents();
  await renderStatus();
  showResult({ result: "ok", message: `Проходите · нет сети, запись в очереди`, ticket });
}

async function sync() {
  if (state.syncing || !state.settings) return;
  state.syncing = true;
  try {
    let items = await store.all("queue");
    const sent = items.length;
    while (items.length) {
      const batch = items.slice(0, 200);
      const data = await api("POST", "/checkins/bulk", { items: batch });
      for (const answer of data.results) await store.remove("queue", answer.scan_id);
      items = items.slice(batch.length);
    }
    // The server's counts now hold the queued admissions: take the counter and the rows from it together.
    if (sent) await refreshToday();
  } catch (e) {
    if (e instanceof Revoked) unpair("Киоск отозван координатором.");
    else if (e instanceof Offline) state.online = false;
  } finally {
    state.syncing = false;
    renderStatus();
  }
}

// --- today, bundle ------------------------------------------------------------------------------

async function refreshToday() {
  try {
    const data = await api("GET", "/kiosk/today");
    state.admittedToday = data.admitted_today;
    if (data.tenant.timezone && state.settings.tenant.timezone !== data.tenant.timezone) {
      state.settings.tenant.timezone = data.tenant.timezone;
      localStorage.setItem(SETTINGS, JSON.stringify(state.settings));
    }
    $("venue-name").textContent = data.venue.name;
    $("kiosk-name").textContent = `${data.kiosk.name} · ${data.tenant.name}`;
    state.events = data.events;
    renderEvents();
    renderStatus();
  } catch (e) {
    if (e instanceof Revoked) unpair("Киоск отозван координатором. Получите новый код привязки.");
    else if (e instanceof Offline) setOnline(false);
  }
}

// Today's rows; an offline admission adds to its row as it adds to the counter, so the two agree.
function renderEvents() {
  const list = $("events");
  list.replaceChildren(
    ...state.events.map((e) => {
      const li = el("li", "k-event");
      li.append(
        el("span", "k-event-time", `${timeOf(e.starts_at)}–${timeOf(e.ends_at)}`),
        el("span", "k-event-title", e.title + (e.format === "online" ? " (онлайн)" : "")),
        el("span", "k-event-count", `прошли ${e.checked_in} из ${e.registered}`)
      );
      return li;
    })
  );
  if (!state.events.length) {
    list.append(el("li", "k-event k-muted", "Сегодня на этой площадке событий нет"));
  }
}

async function refreshBundle() {
  try {
    const bundle = await api("GET", "/kiosk/offline");
    await store.replaceBundle(bundle);
    document.body.dataset.bundle = "ready";
  } catch (e) {
    if (e instanceof Revoked) unpair("Киоск отозван координатором.");
  }
}

// --- manual admission ---------------------------------------------------------------------------

let searchTimer = null;

async function search(query) {
  const results = $("search-results");
  if (query.trim().length < 3) {
    results.replaceChildren();
    return;
  }
  try {
    const data = await api("GET", `/kiosk/search?q=${encodeURIComponent(query.trim())}`);
    results.replaceChildren(
      ...data.items.map((item) => {
        const li = el("li", "k-row");
        const who = el("div", "k-row-main");
        who.append(
          el("div", "k-row-name", item.short_name),
          el("div", "k-muted", `${item.grade} класс · ${item.school} · ${item.event}`)
        );
        const button = el("button");
        button.type = "button";
        if (item.checked_in_at) {
          button.className = "k-button";
          button.disabled = true;
          button.textContent = `вошёл в ${timeOf(item.checked_in_at)}`;
        } else {
          button.className = "k-button k-primary";
          button.textContent = "Впустить";
          button.addEventListener("click", () => admitManually(item.id));
        }
        li.append(who, button);
        return li;
      })
    );
    if (!data.items.length) {
      results.append(el("li", "k-muted", "Никого не нашли среди сегодняшних регистраций."));
    }
  } catch (e) {
    $("search-hint").textContent = e instanceof Offline ? "Поиск по фамилии работает только онлайн." : e.message;
  }
}

async function admitManually(ticketId) {
  try {
    const answer = await api("POST", "/kiosk/manual", { ticket_id: ticketId, scan_id: newScanId() });
    if (answer.result === "ok") state.admittedToday += 1;
    closePanels();
    showResult(answer);
    refreshToday();
  } catch (e) {
    showResult({ result: "invalid", message: e instanceof Offline ? "Нет сети: ручной вход недоступен" : e.message });
  }
}

// --- group admission ----------------------------------------------------------------------------

async function openGroup(code) {
  try {
    const sheet = await api("POST", "/kiosk/groups/open", { code });
    state.ticked = new Set();
    renderGroup(sheet);
    show("screen-group");
    beep("ok");
  } catch (e) {
    showResult({
      result: "invalid",
      message: e instanceof Offline ? "Нет сети: список класса недоступен — сканируйте билеты учеников" : e.message,
    });
  }
}

function renderGroup(sheet, summary = "") {
  state.group = sheet;
  $("group-title").textContent = `${sheet.group.label} · ${sheet.group.school}`;
  $("group-sub").textContent = [sheet.group.event, sheet.group.escort_name && `сопровождает ${sheet.group.escort_name}`]
    .filter(Boolean)
    .join(" · ");
  const inside = sheet.students.filter((s) => s.checked_in_at).length;
  const left = sheet.students.filter((s) => s.left_at).length;
  const counts = `вошли ${inside} из ${sheet.students.length}` + (left ? `, ушли ${left}` : "");
  $("group-summary").textContent = summary ? `${summary} · ${counts}` : counts;
  $("group-list").replaceChildren(
    ...sheet.students.map((s) => {
      const li = el("li", "k-row k-check-row");
      const label = el("label", "k-check");
      const box = el("input");
      box.type = "checkbox";
      box.checked = state.ticked.has(s.ticket_id);
      box.addEventListener("change", () => {
        if (box.checked) state.ticked.add(s.ticket_id);
        else state.ticked.delete(s.ticket_id);
        updateGroupButtons();
      });
      label.append(box, el("span", "k-row-name", s.short_name));
      const status = el("span", "k-badge");
      if (s.left_at) {
        status.classList.add("k-badge-left");
        status.textContent = `ушёл ${timeOf(s.left_at)}`;
      } else if (s.checked_in_at) {
        status.classList.add("k-badge-in");
        status.textContent = `вошёл ${timeOf(s.checked_in_at)}`;
      } else {
        status.textContent = "не вошёл";
      }
      li.append(label, status);
      return li;
    })
  );
  updateGroupButtons();
}

function updateGroupButtons() {
  const n = state.ticked.size;
  $("group-admit").textContent = n ? `Впустить отмеченных (${n})` : "Впустить всех";
  $("group-left").textContent = n ? `Ушли с педагогом (${n})` : "Ушли с педагогом: все вошедшие";
}

async function groupAction(kind) {
  const sheet = state.group;
  if (!sheet) return;
  let ids = Array.from(state.ticked);
  if (!ids.length) {
    ids = sheet.students
      .filter((s) => (kind === "admit" ? !s.checked_in_at : s.checked_in_at && !s.left_at))
      .map((s) => s.ticket_id);
  }
  if (!ids.length) return;
  try {
    const data = await api("POST", `/kiosk/groups/${sheet.group.id}/${kind === "admit" ? "admit" : "left"}`, { ticket_ids: ids });
    state.ticked = new Set();
    let summary;
    if (kind === "admit") {
      const ok = data.results.filter((r) => r.result === "ok").length;
      const refused = data.results.filter((r) => r.result !== "ok" && r.result !== "already_checked_in");
      state.admittedToday += ok;
      summary = `Впущено: ${ok}` + (refused.length ? ` · не впущено: ${refused.length} (${refused[0].message})` : "");
      beep(refused.length ? "bad" : "ok");
    } else {
      summary = `Отмечено ушедшими: ${data.marked}`;
      beep("ok");
    }
    renderGroup(data, summary);
    renderStatus();
    refreshToday();
  } catch (e) {
    $("group-summary").textContent = e instanceof Offline ? "Нет сети: попробуйте ещё раз" : e.message;
    beep("bad");
  }
}

function closePanels() {
  $("screen-search").hidden = true;
  $("screen-group").hidden = true;
  show("screen-ready");
}

// --- start --------------------------------------------------------------------------------------

const camera = new Camera($("video-box"), (code) => handleCode(code));
const pairCamera = new Camera($("pair-video-box"), (text) => pair(text));

async function startKiosk() {
  show("screen-ready");
  $("venue-name").textContent = state.settings.venue.name;
  $("kiosk-name").textContent = state.settings.kiosk.name;
  await renderStatus();
  await refreshToday();
  await refreshBundle();
  sync();
  document.body.dataset.ready = "1";
}

function wire() {
  document.addEventListener("pointerdown", unlockAudio, { once: false });
  document.addEventListener("keydown", unlockAudio, { once: true });

  $("pair-form").addEventListener("submit", (e) => {
    e.preventDefault();
    pair($("pair-code").value);
  });
  $("pair-camera").addEventListener("click", () =>
    pairCamera.start().catch((err) => ($("pair-message").textContent = err.message))
  );

  const wedge = $("wedge");
  wedge.addEventListener("keydown", (e) => {
    // Scanners end a code with Enter (some with Tab); a stray key before it is cut off in handleCode.
    if (e.key !== "Enter" && !(e.key === "Tab" && wedge.value.length >= 100)) return;
    e.preventDefault();
    const value = wedge.value;
    wedge.value = "";
    handleCode(value);
  });
  wedge.addEventListener("blur", () => setTimeout(focusWedge, 150));
  document.addEventListener("click", () => setTimeout(focusWedge, 0));

  $("screen-result").addEventListener("click", hideResult);
  $("btn-camera").addEventListener("click", () => {
    if (camera.running) {
      camera.stop();
      $("btn-camera").textContent = "Камера";
    } else {
      camera
        .start()
        .then(() => {
          $("camera-notice").hidden = true;
          $("btn-camera").textContent = "Выключить камеру";
        })
        .catch((err) => {
          // A device problem, not a ticket refused: a calm note, no red screen, no "bad" beep.
          $("camera-notice").textContent = err.message;
          $("camera-notice").hidden = false;
        });
    }
  });
  $("btn-search").addEventListener("click", () => {
    $("screen-search").hidden = false;
    $("screen-ready").hidden = true;
    $("search-input").value = "";
    $("search-results").replaceChildren();
    $("search-input").focus();
  });
  $("search-input").addEventListener("input", (e) => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => search(e.target.value), 250);
  });
  $("search-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const value = $("search-input").value;
    if (value.trim().length >= 100) {
      closePanels();
      handleCode(value);
    } else search(value);
  });
  for (const button of document.querySelectorAll("[data-close]")) button.addEventListener("click", closePanels);
  $("group-tick-all").addEventListener("click", () => {
    const sheet = state.group;
    if (!sheet) return;
    const all = sheet.students.filter((s) => !s.left_at).map((s) => s.ticket_id);
    state.ticked = state.ticked.size === all.length ? new Set() : new Set(all);
    renderGroup(sheet);
  });
  $("group-admit").addEventListener("click", () => groupAction("admit"));
  $("group-left").addEventListener("click", () => groupAction("left"));

  window.addEventListener("online", () => setOnline(true));
  window.addEventListener("offline", () => setOnline(false));
  setInterval(() => {
    if (!state.settings) return;
    if (state.online) {
      refreshToday();
      sync();
    } else {
      api("GET", "/kiosk/today").then(() => refreshToday()).catch(() => {});
    }
  }, 15000);
  setInterval(() => state.settings && state.online && refreshBundle(), 5 * 60 * 1000);
}

async function registerWorker() {
  const script = $("kiosk-script");
  if (!("serviceWorker" in navigator)) return;
  try {
    await navigator.serviceWorker.register(script.dataset.sw, { scope: script.dataset.scope });
  } catch (e) {
    console.warn("service worker not registered", e);
  }
}

async function main() {
  wire();
  registerWorker();
  state.settings = loadSettings();
  const fromLink = /#pair=([A-Za-z0-9-]+)/.exec(location.hash);
  if (fromLink) history.replaceState(null, "", location.pathname);
  if (!state.settings) {
    show("screen-pair");
    if (fromLink) {
      $("pair-code").value = fromLink[1];
      await pair(fromLink[1]);
    } else $("pair-code").focus();
    return;
  }
  await startKiosk();
}

main();
