// Camera scanning with the vendored jsQR (window.jsQR): getUserMedia → canvas → decode, ~8 times a second.
// What the staff can do about a camera that does not start: the browser's own words are English.
function cameraProblem(err) {
  const name = err && err.name;
  if (name === "NotAllowedError" || name === "SecurityError") {
    return "Нет доступа к камере: разрешите её в настройках браузера. Пока можно сканировать сканером или найти по фамилии.";
  }
  if (name === "NotFoundError" || name === "OverconstrainedError") {
    return "Камера не найдена. Подключите камеру или сканируйте сканером, либо найдите по фамилии.";
  }
  if (name === "NotReadableError" || name === "AbortError") {
    return "Камера занята другой программой. Закройте её и попробуйте ещё раз.";
  }
  return "Камера не включилась. Сканируйте сканером или найдите по фамилии.";
}

export class Camera {
  constructor(box, onCode) {
    this.box = box;
    this.onCode = onCode;
    this.stream = null;
    this.timer = null;
    this.last = { code: null, at: 0 };
  }

  get running() {
    return this.stream !== null;
  }

  async start() {
    if (this.running) return;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      throw new Error("Камера недоступна в этом браузере (нужен https). Сканируйте сканером или найдите по фамилии.");
    }
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: "environment", width: { ideal: 1280 }, height: { ideal: 720 } },
        audio: false,
      });
    } catch (err) {
      throw new Error(cameraProblem(err));
    }
    this.video = document.createElement("video");
    this.video.setAttribute("playsinline", "");
    this.video.muted = true;
    this.video.srcObject = this.stream;
    this.video.className = "k-video";
    this.canvas = document.createElement("canvas");
    this.box.replaceChildren(this.video);
    this.box.hidden = false;
    await this.video.play();
    this.timer = setInterval(() => this.tick(), 120);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
    if (this.stream) this.stream.getTracks().forEach((t) => t.stop());
    this.stream = null;
    this.box.hidden = true;
    this.box.replaceChildren();
  }

  tick() {
    const v = this.video;
    if (!v || v.readyState < 2 || !window.jsQR) return;
    const scale = Math.min(1, 640 / v.videoWidth);
    const w = Math.round(v.videoWidth * scale);
    const h = Math.round(v.videoHeight * scale);
    this.canvas.width = w;
    this.canvas.height = h;
    const g = this.canvas.getContext("2d", { willReadFrequently: true });
    g.drawImage(v, 0, 0, w, h);
    const found = window.jsQR(g.getImageData(0, 0, w, h).data, w, h, { inversionAttempts: "dontInvert" });
    if (!found || !found.data) return;
    const now = Date.now();
    // The same QR stays in front of the camera for a while: read it once, not ten times.
    if (found.data === this.last.code && now - this.last.at < 4000) return;
    this.last = { code: found.data, at: now };
    this.onCode(found.data);
  }
}
