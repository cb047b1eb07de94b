// Live attendance dashboard: a snapshot from the server, moved forward by `checkin` messages.
// The server decides what this page may see; the page only renders it. Every minute, and on every
// reconnect, a fresh snapshot from the database replaces whatever the page had counted.
(function () {
  "use strict";

  const root = document.getElementById("live");
  if (!root) return;

  const LAG_MS = 30 * 60 * 1000;
  const STEP_MS = 10 * 60 * 1000;
  const FEED_SIZE = 25;
  const REFRESH_MS = 60 * 1000;
  const timeZone = root.dataset.timezone;
  const hm = new Intl.DateTimeFormat("ru-RU", { timeZone, hour: "2-digit", minute: "2-digit" });
  const hms = new Intl.DateTimeFormat("ru-RU", { timeZone, hour: "2-digit", minute: "2-digit", second: "2-digit" });
  const $ = (id) => document.getElementById(id);

  let state = null; // the last snapshot, moved forward in place
  let seen = new Set(); // check-in ids the snapshot already counts
  let skew = 0; // server clock minus ours
  let chart = null;
  let dirty = false;
  const bumped = new Map(); // event id -> time of its last admission (row highlight)

  function escapeHtml(text) {
    return String(text == null ? "" : text).replace(/[&<>"']/g, (c) => ({
      "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
    })[c]);
  }
  const percent = (part, whole) => (whole ? Math.round((100 * part) / whole) : 0);
  const now = () => Date.now() + skew;
  const meter = (p) => `<div class="live-meter"><span class="lm-${Math.min(100, Math.floor(p / 10) * 10)}"></span></div>`;

  function isLagging(event) {
    return event.format === "in_person" && event.registered > 0 && event.checked_in === 0 &&
      now() - event.starts_at >= LAG_MS;
  }

  function eventState(event) {
    if (isLagging(event)) return '<span class="badge live-badge-lag">нет отметок 30 мин</span>';
    const t = now();
    if (t < event.opens_at) return '<span class="badge">ещё не начато</span>';
    if (t < event.starts_at) return '<span class="badge live-badge-open">идёт вход</span>';
    if (t < event.ends_at) return '<span class="badge live-badge-on">идёт</span>';
    return '<span class="badge">завершено</span>';
  }

  function applySnapshot(snapshot) {
    state = snapshot;
    seen = new Set(snapshot.seen);
    skew = snapshot.now - Date.now();
    $("live-updated").textContent = hms.format(new Date(snapshot.now));
    render();
  }

  function applyCheckin(message) {
    if (!state || seen.has(message.id)) return;
    const event = state.events.find((e) => e.id === message.event_id);
    if (!event) return; // another day or programme than this page shows
    seen.add(message.id);
    event.checked_in += 1;
    if (state.scope.kind === "region" || state.scope.kind === "venue") {
      event.registered = Math.max(event.registered, message.registered);
    }
    const key = state.breakdown.kind === "school" ? message.school_id : message.municipality_id;
    const row = state.breakdown.rows.find((r) => r.id === key);
    if (row) row.checked_in += 1;
    const at = Date.parse(message.at);
    const slot = Math.floor(at / STEP_MS) * STEP_MS;
    const bucket = state.buckets.find((b) => b.t === slot);
    if (bucket) bucket.n += 1;
    else if (state.buckets.length && slot > state.buckets[state.buckets.length - 1].t) {
      for (let t = state.buckets[state.buckets.length - 1].t + STEP_MS; t <= slot; t += STEP_MS) {
        state.buckets.push({ t, n: t === slot ? 1 : 0 });
      }
    }
    state.feed.unshift({
      id: message.id, event_id: message.event_id, at, method: message.method,
      short_name: message.short_name, grade: message.grade, school: message.school,
    });
    state.feed.length = Math.min(state.feed.length, FEED_SIZE);
    bumped.set(event.id, Date.now());
    $("live-updated").textContent = hms.format(new Date(now()));
    schedule();
  }

  function schedule() {
    if (dirty) return;
    dirty = true;
    requestAnimationFrame(() => { dirty = false; render(); });
  }

  function render() {
    if (!state) return;
    const events = state.events;
    const registered = events.reduce((s, e) => s + e.registered, 0);
    const admitted = events.reduce((s, e) => s + e.checked_in, 0);
    $("total-registered").textContent = registered;
    $("total-admitted").textContent = admitted;
    $("total-percent").textContent = percent(admitted, registered) + "%";
    $("total-events").textContent = events.length;
    $("total-capacity").textContent = events.reduce((s, e) => s + e.capacity, 0);
    renderEvents(events);
    const lagging = renderVenues(events);
    $("total-lagging").textContent = lagging.length;
    $("lagging-stat").classList.toggle("stat-bad", lagging.length > 0);
    const alert = $("lagging-alert");
    alert.hidden = lagging.length === 0;
    // Venue staff are the venue: they are asked to check their own door, not to call themselves.
    const ownVenue = root.dataset.scope === "venue";
    alert.textContent = !lagging.length
      ? ""
      : ownVenue
        ? "Через 30 минут после начала нет ни одной отметки. Проверьте, что киоск на входе включён и на связи, или впускайте по фамилии."
        : "Нет ни одной отметки через 30 минут после начала: " + lagging.join(", ") + ". Свяжитесь с площадкой.";
    renderBreakdown();
    renderFeed();
    renderChart();
  }

  function renderEvents(events) {
    const recent = Date.now() - 2000;
    $("events-body").innerHTML = events.length ? events.map((e) => {
      const p = percent(e.checked_in, e.registered);
      const quota = e.quota != null ? ` <span class="muted small">(квота ${e.quota})</span>` : "";
      return `<tr class="${isLagging(e) ? "live-row-lag" : ""} ${(bumped.get(e.id) || 0) > recent ? "live-row-bump" : ""}" data-event="${e.id}">
        <td class="nowrap">${hm.format(new Date(e.starts_at))}–${hm.format(new Date(e.ends_at))}</td>
        <td>${escapeHtml(e.title)}<div class="muted small">${e.programme === "trial" ? "Профпроба" : "ЕДОД"} · ${e.format === "online" ? "онлайн" : "очно"}</div></td>
        <td>${escapeHtml(e.venue)}</td>
        <td class="num">${e.registered} / ${e.capacity}${quota}</td>
        <td class="num live-big">${e.checked_in}</td>
        <td class="num">${p}%${meter(p)}</td>
        <td>${eventState(e)}</td></tr>`;
    }).join("") : '<tr><td colspan="7" class="muted">В этот день событий нет.</td></tr>';
  }

  function renderVenues(events) {
    const venues = new Map();
    for (const e of events) {
      const v = venues.get(e.venue_id) || { name: e.venue, events: 0, registered: 0, admitted: 0, lag: false, live: false };
      v.events += 1;
      v.registered += e.registered;
      v.admitted += e.checked_in;
      v.lag = v.lag || isLagging(e);
      v.live = v.live || (now() >= e.opens_at && now() < e.ends_at);
      venues.set(e.venue_id, v);
    }
    const rows = [...venues.values()].sort((a, b) => (b.lag - a.lag) || a.name.localeCompare(b.name, "ru"));
    $("venues-body").innerHTML = rows.length ? rows.map((v) => {
      const p = percent(v.admitted, v.registered);
      const status = v.lag ? '<span class="badge live-badge-lag">нет отметок 30 мин после начала</span>'
        : v.live ? '<span class="badge live-badge-on">идёт</span>' : "";
      return `<tr class="${v.lag ? "live-row-lag" : ""}"><td>${escapeHtml(v.name)}</td><td class="num">${v.events}</td>
        <td class="num">${v.registered}</td><td class="num live-big">${v.admitted}</td><td class="num">${p}%${meter(p)}</td><td>${status}</td></tr>`;
    }).join("") : '<tr><td colspan="6" class="muted">Нет площадок с событиями в этот день.</td></tr>';
    return rows.filter((v) => v.lag).map((v) => v.name);
  }

  function renderBreakdown() {
    const breakdown = state.breakdown;
    $("breakdown").hidden = !breakdown.kind;
    if (!breakdown.kind) return;
    $("breakdown-title").textContent = breakdown.kind === "school" ? "По школам" : "По муниципалитетам";
    $("breakdown-name").textContent = breakdown.kind === "school" ? "Школа" : "Муниципалитет";
    $("breakdown-body").innerHTML = breakdown.rows.length ? breakdown.rows.map((r) => {
      const p = percent(r.checked_in, r.registered);
      const q = r.quota ? percent(r.checked_in, r.quota) + "%" : "—";
      return `<tr><td>${escapeHtml(r.name)}</td><td class="num">${r.quota == null ? "—" : r.quota}</td>
        <td class="num">${r.registered}</td><td class="num live-big">${r.checked_in}</td><td class="num">${p}%${meter(p)}</td><td class="num">${q}</td></tr>`;
    }).join("") : '<tr><td colspan="6" class="muted">Нет записавшихся.</td></tr>';
  }

  function renderFeed() {
    const titles = new Map(state.events.map((e) => [e.id, e.venue]));
    $("live-feed").innerHTML = state.feed.length ? state.feed.map((f) => `<li>
        <span class="live-feed-time">${hms.format(new Date(f.at))}</span>
        <strong>${escapeHtml(f.short_name)}</strong>, ${f.grade} кл.
        <span class="muted small">${escapeHtml(f.school)} → ${escapeHtml(titles.get(f.event_id) || "")}</span></li>`).join("")
      : '<li class="muted">Пока никого.</li>';
  }

  function renderChart() {
    const labels = state.buckets.map((b) => hm.format(new Date(b.t)));
    const data = state.buckets.map((b) => b.n);
    if (!window.Chart) return;
    if (!chart) {
      chart = new window.Chart($("live-chart"), {
        type: "bar",
        data: { labels, datasets: [{ label: "Пришли за 10 минут", data, backgroundColor: "#1f5eff" }] },
        options: {
          animation: false, responsive: true, maintainAspectRatio: false,
          plugins: { legend: { display: false } },
          scales: { y: { beginAtZero: true, ticks: { precision: 0 } }, x: { ticks: { maxRotation: 0, autoSkip: true } } },
        },
      });
      return;
    }
    chart.data.labels = labels;
    chart.data.datasets[0].data = data;
    chart.update("none");
  }

  function setStatus(kind, text) {
    const el = $("live-status");
    el.className = "live-status live-status-" + kind;
    el.textContent = text;
  }

  const initial = document.getElementById("live-initial");
  if (initial) applySnapshot(JSON.parse(initial.textContent));
  setInterval(render, 30 * 1000); // "30 minutes after the start" moves with the clock, not with scans

  document.getElementById("live-filters").addEventListener("change", (e) => e.currentTarget.submit());
  $("live-wall").addEventListener("click", () => {
    document.body.classList.toggle("live-wall");
    if (document.body.classList.contains("live-wall") && document.documentElement.requestFullscreen) {
      document.documentElement.requestFullscreen().catch(() => {});
    } else if (document.fullscreenElement) {
      document.exitFullscreen();
    }
  });

  if (!window.io) { setStatus("off", "Нет связи: обновите страницу"); return; }
  const socket = window.io("/live", {
    transports: ["websocket", "polling"],
    // batch: under load, check-ins arrive as `checkins` lists (one message per 50 ms) instead of one each
    auth: { tenant: root.dataset.tenant, date: root.dataset.date, programme: root.dataset.programme || null, batch: true },
  });
  socket.on("connect", () => setStatus("on", "В эфире"));
  socket.on("disconnect", () => setStatus("off", "Нет связи — показаны данные на момент обрыва"));
  socket.on("connect_error", (err) => {
    if (!socket.active) setStatus("off", "Нет доступа: войдите снова");
    else setStatus("off", "Нет связи, переподключение…");
    if (err && err.message) root.dataset.error = err.message;
  });
  socket.on("snapshot", applySnapshot);
  socket.on("checkin", applyCheckin);
  socket.on("checkins", (messages) => messages.forEach(applyCheckin)); // coalesced under load
  setInterval(() => { if (socket.connected) socket.emit("refresh"); }, REFRESH_MS);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && socket.connected) socket.emit("refresh");
  });
})();
