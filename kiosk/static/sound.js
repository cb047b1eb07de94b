// Distinct beeps with WebAudio (no sound files): rising = admitted, double = already, low buzz = refused.
let ctx = null;

export function unlockAudio() {
  try {
    if (!ctx) ctx = new (window.AudioContext || window.webkitAudioContext)();
    if (ctx.state === "suspended") ctx.resume();
  } catch (e) {
    ctx = null;
  }
}

function tone(freq, start, duration, type = "sine", volume = 0.25) {
  const osc = ctx.createOscillator();
  const gain = ctx.createGain();
  osc.type = type;
  osc.frequency.value = freq;
  gain.gain.setValueAtTime(volume, ctx.currentTime + start);
  gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + start + duration);
  osc.connect(gain).connect(ctx.destination);
  osc.start(ctx.currentTime + start);
  osc.stop(ctx.currentTime + start + duration + 0.02);
}

export function beep(kind) {
  if (!ctx) unlockAudio();
  if (!ctx) return;
  if (kind === "ok") {
    tone(880, 0, 0.12);
    tone(1320, 0.13, 0.18);
  } else if (kind === "warn") {
    tone(620, 0, 0.15, "triangle", 0.3);
    tone(620, 0.25, 0.15, "triangle", 0.3);
  } else {
    tone(180, 0, 0.6, "square", 0.2);
  }
}
