// tspcr-lab portal: a trainee's page. Data comes from the page's data- attributes and its JSON
// block; what it shows from the server is set with textContent, never as HTML.
"use strict";
(function () {
  const body = document.body;
  const trainee = body.dataset.trainee, csrf = body.dataset.csrf, lang = body.dataset.lang;
  const S = JSON.parse(document.getElementById("strings").textContent);
  const base = "/trainee/" + encodeURIComponent(trainee) + "/";
  const terminals = {};
  let over = false;

  function say(key, values) {
    let text = S[key] || key;
    for (const [k, v] of Object.entries(values || {})) text = text.replace("{" + k + "}", v);
    return text;
  }

  function post(path) {
    return fetch(base + path + "?lang=" + lang, {method: "POST", headers: {"X-CSRF-Token": csrf}, credentials: "same-origin"});
  }

  // -- terminals ---------------------------------------------------------------------------
  class HostTerminal {
    constructor(host, element) {
      this.host = host;
      this.element = element;
      this.term = new Terminal({cursorBlink: true, scrollback: 5000, fontSize: 14, convertEol: false,
                                fontFamily: "DejaVu Sans Mono, Menlo, Consolas, monospace"});
      this.fit = new FitAddon.FitAddon();
      this.term.loadAddon(this.fit);
      this.term.open(element);
      this.ws = null;
      this.retry = 500;
      this.ended = false;
      this.term.onData((data) => this.send({t: "i", d: data}));
      this.term.onResize(({cols, rows}) => this.send({t: "r", c: cols, r: rows}));
      this.term.attachCustomKeyEventHandler((event) => this.keys(event));
      new ResizeObserver(() => this.resize()).observe(element);
      this.resize();
      this.connect();
    }
    keys(event) {
      if (event.type !== "keydown" || !event.ctrlKey || !event.shiftKey) return true;
      if (event.code === "KeyC") {
        const text = this.term.getSelection();
        if (text && navigator.clipboard) navigator.clipboard.writeText(text);
        return false;
      }
      if (event.code === "KeyV") return false; // the browser's paste event gives xterm the text
      return true;
    }
    resize() {
      if (this.element.offsetParent === null) return;
      try { this.fit.fit(); } catch (e) { /* not laid out yet */ }
    }
    send(message) {
      if (this.ended && message.t === "i" && !over) { this.ended = false; this.connect(); return; }
      if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
    }
    connect() {
      if (over) return;
      const scheme = location.protocol === "https:" ? "wss:" : "ws:";
      const url = scheme + "//" + location.host + base + "terminal/" + encodeURIComponent(this.host) +
        "?c=" + this.term.cols + "&r=" + this.term.rows;
      const ws = new WebSocket(url);
      ws.binaryType = "arraybuffer";
      this.ws = ws;
      let fresh = true, reason = null;
      ws.onopen = () => { this.retry = 500; };
      ws.onmessage = (event) => {
        if (typeof event.data === "string") {
          try { reason = JSON.parse(event.data).reason; } catch (e) { reason = null; }
          return;
        }
        if (fresh) { this.term.reset(); fresh = false; }  // the server replays its scrollback
        this.term.write(new Uint8Array(event.data));
      };
      ws.onclose = () => {
        if (this.ws !== ws) return;
        this.ws = null;
        if (reason === "over" || over) { this.term.write("\r\n" + S.term_over + "\r\n"); endOfTime(); return; }
        if (reason === "exit") { this.ended = true; this.term.write("\r\n" + S.term_ended + "\r\n"); return; }
        if (reason === "down") { this.ended = true; this.term.write("\r\n" + say("host_down", {host: this.host}) + "\r\n"); return; }
        if (reason === "logout") { loggedOut(); return; }
        this.term.write("\r\n" + S.term_lost + "\r\n");
        setTimeout(() => this.connect(), this.retry);
        this.retry = Math.min(this.retry * 2, 8000);
      };
    }
    close() { if (this.ws) { const ws = this.ws; this.ws = null; ws.close(); } }
  }

  for (const element of document.querySelectorAll(".terminal[data-host]")) {
    terminals[element.dataset.host] = new HostTerminal(element.dataset.host, element);
  }

  for (const tab of document.querySelectorAll(".tab")) {
    tab.addEventListener("click", () => {
      for (const other of document.querySelectorAll(".tab")) other.classList.toggle("active", other === tab);
      for (const pane of document.querySelectorAll("section.host")) {
        pane.classList.toggle("active", pane.dataset.host === tab.dataset.tab);
      }
      const terminal = terminals[tab.dataset.tab];
      terminal.resize();
      terminal.term.focus();
    });
  }

  // -- hosts' state and reboot -----------------------------------------------------------
  function showState(host, state) {
    for (const badge of document.querySelectorAll('[data-host="' + CSS.escape(host) + '"] .state, .tab[data-tab="' + CSS.escape(host) + '"] .state')) {
      badge.dataset.state = state;
      badge.textContent = S[state];
    }
  }

  for (const button of document.querySelectorAll("button.reboot")) {
    button.addEventListener("click", async () => {
      const host = button.dataset.host;
      if (!confirm(say("reboot_confirm", {host: host}))) return;
      button.disabled = true;
      showState(host, "rebooting");
      try {
        const response = await post("reboot/" + encodeURIComponent(host));
        if (response.status === 403) return endOfTime();
      } finally {
        button.disabled = false;
        await refresh();
        const terminal = terminals[host];
        terminal.ended = false;
        if (!terminal.ws) terminal.connect();
      }
    });
  }

  async function refresh() {
    if (over) return;
    let response;
    try { response = await fetch(base + "state", {credentials: "same-origin"}); } catch (e) { return; }
    if (response.redirected) return loggedOut();  // no session any more (logged out in another tab)
    if (response.status === 403) return endOfTime();
    if (!response.ok) return;
    const state = await response.json();
    for (const host of state.hosts) {
      const badge = document.querySelector('.tab[data-tab="' + CSS.escape(host.name) + '"] .state');
      if (badge && badge.dataset.state !== "rebooting") showState(host.name, host.running ? "running" : "stopped");
    }
    if (state.remaining !== null) clock.dataset.remaining = Math.round(state.remaining);
  }
  setInterval(refresh, 5000);

  // -- the clock --------------------------------------------------------------------------
  const clock = document.getElementById("clock") || document.createElement("span");
  let deadline = clock.dataset.remaining ? Date.now() + 1000 * Number(clock.dataset.remaining) : null;
  const observer = new MutationObserver(() => { deadline = Date.now() + 1000 * Number(clock.dataset.remaining); });
  observer.observe(clock, {attributes: true, attributeFilter: ["data-remaining"]});
  function tick() {
    if (deadline === null) return;
    const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    const h = Math.floor(left / 3600), m = Math.floor(left / 60) % 60, s = left % 60;
    clock.textContent = (h ? h + ":" : "") + String(m).padStart(2, "0") + ":" + String(s).padStart(2, "0");
    clock.parentElement.classList.toggle("low", left < 300);
  }
  tick();
  setInterval(tick, 1000);

  // This tab's own logout: the form's redirect takes it to the login page; the server's
  // "logout" message to this tab's terminals must not start a second navigation.
  let leaving = false;
  const logoutForm = document.querySelector('form[action="/logout"]');
  if (logoutForm) logoutForm.addEventListener("submit", () => { leaving = true; });

  function loggedOut() {
    if (leaving) return;
    over = true;
    for (const terminal of Object.values(terminals)) terminal.close();
    location.assign("/?lang=" + lang);
  }

  function endOfTime() {
    if (over) return;
    over = true;
    for (const terminal of Object.values(terminals)) { terminal.close(); terminal.term.options.disableStdin = true; }
    document.getElementById("over").hidden = false;
    for (const button of document.querySelectorAll("button.reboot, #check")) button.disabled = true;
  }

  // -- self-check (practice only) -----------------------------------------------------------
  const check = document.getElementById("check");
  if (check) {
    const status = document.getElementById("check-status"), result = document.getElementById("check-result");
    check.addEventListener("click", async () => {
      check.disabled = true;
      status.textContent = S.checking;
      try {
        const response = await post("check");
        if (response.status === 403) return endOfTime();
        const data = await response.json();
        if (data.status !== "ok") { status.textContent = data.message || S.check_error; return; }
        status.textContent = S.score + " : " + data.score + " / " + data.max;
        result.replaceChildren(table(data.checks));
      } catch (e) {
        status.textContent = S.check_error;
      } finally {
        check.disabled = false;
      }
    });
  }

  function cell(row, text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function table(checks) {
    const t = document.createElement("table");
    const head = t.createTHead().insertRow();
    for (const key of ["result", "item", "competency", "points", "message"]) {
      const th = document.createElement("th"); th.textContent = S[key]; head.appendChild(th);
    }
    const tbody = t.createTBody();
    for (const c of checks) {
      const row = tbody.insertRow();
      row.dataset.status = c.status;
      cell(row, c.status_label, c.status);
      cell(row, c.name);
      cell(row, c.competency);
      cell(row, c.earned + "/" + c.points);
      const message = cell(row, c.message);
      if (c.hint) {
        const hint = document.createElement("span");
        hint.className = "hint";
        hint.textContent = S.hint + " : " + c.hint;
        message.appendChild(hint);
      }
    }
    return t;
  }
})();
