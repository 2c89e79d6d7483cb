// tspcr-lab: the player of terminal recordings (asciicast v2), on xterm.js. The recordings come
// in the page's JSON block #casts (never executed): {"strings", "idle", "recordings": [{"name",
// "title", "width", "height", "duration", "events": [[seconds, "o" | "r" | "m", text], ...]}]}.
// Play/pause, speed, seek by time (the slider, "go to" mm:ss, arrow keys), jump to the previous
// or next burst of activity (after a pause longer than "idle" seconds), pauses cut to "idle".
// What it shows from the recording goes to the terminal emulator or is set with textContent.
"use strict";
(function () {
  const block = document.getElementById("casts");
  const root = document.getElementById("player");
  if (!block || !root || typeof Terminal === "undefined") return;
  const data = JSON.parse(block.textContent);
  const S = data.strings, IDLE = Number(data.idle) || 2;
  const $ = (id) => document.getElementById(id);
  const playButton = $("play"), seek = $("seek"), clock = $("time"), speed = $("speed"), skip = $("skip-idle");
  const notice = $("notice"), title = $("replay-title"), screen = $("screen"), goto = $("goto");
  let term = null, rec = null, events = [], starts = [], index = 0, pos = 0, playing = false, last = 0, timer = null;

  function fmt(seconds) {
    const t = Math.max(0, Math.floor(seconds)), h = Math.floor(t / 3600), m = Math.floor(t / 60) % 60, s = t % 60;
    return (h ? h + ":" : "") + String(m).padStart(2, "0") + ":" + String(s).padStart(2, "0");
  }

  function parseTime(text) {  // "75", "1:15", "0:01:15", "1:15.5"
    const parts = String(text).trim().split(":").map(Number);
    if (!parts.length || parts.some((n) => !Number.isFinite(n) || n < 0)) return null;
    return parts.reduce((total, n) => total * 60 + n, 0);
  }

  function size(n, fallback) {
    n = Math.floor(Number(n));
    return Number.isFinite(n) && n > 0 ? Math.min(n, 1000) : fallback;
  }

  function show() {
    seek.value = String(pos);
    clock.textContent = fmt(pos) + " / " + fmt(rec.duration);
    playButton.textContent = playing ? S.pause : S.play;
    root.dataset.position = pos.toFixed(3);
    root.dataset.state = playing ? "playing" : pos >= rec.duration ? "ended" : "paused";
  }

  // Write every event up to time t (recording time) into the terminal, in as few writes as possible.
  function advance(t) {
    let chunk = "";
    const flush = () => { if (chunk) { term.write(chunk); chunk = ""; } };
    while (index < events.length && events[index][0] <= t) {
      const [, code, text] = events[index++];
      if (code === "o") chunk += text;
      else if (code === "r") {
        const m = /^(\d+)x(\d+)$/.exec(text);
        if (m) { flush(); term.resize(size(m[1], rec.width), size(m[2], rec.height)); }
      } else if (code === "m" && text.startsWith("cut")) notice.textContent = S.recording_cut_notice;
    }
    flush();
    pos = Math.min(t, rec.duration);
    term.write("", () => { root.dataset.shown = pos.toFixed(3); });  // once the terminal has drawn it
    show();
  }

  function seekTo(t) {
    t = Math.max(0, Math.min(Number(t) || 0, rec.duration));
    if (t < pos || (t === 0 && index)) {
      term.reset();
      term.resize(rec.width, rec.height);
      index = 0;
      notice.textContent = "";
    }
    advance(t);
    last = performance.now();
  }

  function tick() {
    timer = null;
    if (!playing) return;
    const now = performance.now();
    let t = pos + (now - last) / 1000 * Number(speed.value);
    last = now;
    if (skip.checked && index < events.length) {  // a long pause lasts IDLE seconds, then goes on
      const previous = index > 0 ? events[index - 1][0] : 0, next = events[index][0];
      if (next - previous > IDLE && t - previous >= IDLE) t = Math.max(t, next);
    }
    advance(t);
    if (pos >= rec.duration) { playing = false; show(); return; }
    timer = setTimeout(tick, 30);
  }

  function play() {
    if (pos >= rec.duration) seekTo(0);
    playing = true;
    last = performance.now();
    show();
    if (!timer) timer = setTimeout(tick, 30);
  }

  function pause() {
    playing = false;
    if (timer) { clearTimeout(timer); timer = null; }
    if (rec) show();
  }

  function load(recording) {
    pause();
    rec = recording;
    events = (rec.events || []).filter((e) => Array.isArray(e) && typeof e[0] === "number" && typeof e[2] === "string");
    rec.duration = Math.max(Number(rec.duration) || 0, events.length ? events[events.length - 1][0] : 0);
    starts = [0];
    for (let i = 1; i < events.length; i++) {
      if (events[i][0] - events[i - 1][0] > IDLE) starts.push(events[i][0]);
    }
    if (term) term.dispose();
    term = new Terminal({cols: size(rec.width, 80), rows: size(rec.height, 24), disableStdin: true, cursorBlink: false,
                         scrollback: 10000, fontSize: 14, convertEol: false,
                         fontFamily: "DejaVu Sans Mono, Menlo, Consolas, monospace"});
    term.open(screen);
    index = 0;
    pos = 0;
    notice.textContent = "";
    seek.max = String(rec.duration);
    title.textContent = rec.title || rec.name;
    root.dataset.recording = rec.name;
    root.dataset.activities = String(starts.length);
    for (const row of document.querySelectorAll("tr[data-recording]")) {
      row.classList.toggle("current", row.dataset.recording === rec.name);
    }
    advance(0);
  }

  function pick() {
    const name = decodeURIComponent(location.hash.slice(1));
    load(data.recordings.find((r) => r.name === name) || data.recordings[0]);
  }

  playButton.addEventListener("click", () => (playing ? pause() : play()));
  seek.addEventListener("input", () => seekTo(Number(seek.value)));
  $("next-gap").addEventListener("click", () => {
    const next = starts.find((s) => s > pos + 0.001);
    seekTo(next === undefined ? rec.duration : next);
  });
  $("prev-gap").addEventListener("click", () => {
    const earlier = starts.filter((s) => s < pos - 0.5);
    seekTo(earlier.length ? earlier[earlier.length - 1] : 0);
  });
  goto.addEventListener("change", () => {
    const t = parseTime(goto.value);
    if (t !== null) seekTo(t);
  });
  document.addEventListener("keydown", (event) => {
    if (event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement) return;
    if (event.key === " ") { event.preventDefault(); playing ? pause() : play(); }
    else if (event.key === "ArrowRight") seekTo(pos + 5);
    else if (event.key === "ArrowLeft") seekTo(pos - 5);
  });
  window.addEventListener("hashchange", pick);
  if (data.recordings.length) pick();
})();
