// tspcr-lab portal: the instructor's live view (server-sent events). Everything shown from the
// server is set with textContent.
"use strict";
(function () {
  const body = document.body, csrf = body.dataset.csrf, lang = body.dataset.lang;
  const S = JSON.parse(document.getElementById("strings").textContent);
  const tbody = document.querySelector("#rows tbody");
  const minutes = document.getElementById("extend-minutes");
  const grading = document.getElementById("grading");

  function post(path, data) {
    return fetch(path + "?lang=" + lang, {method: "POST", credentials: "same-origin",
      headers: {"X-CSRF-Token": csrf, "Content-Type": "application/json"}, body: JSON.stringify(data || {})});
  }

  async function act(promise) {
    const response = await promise;
    if (!response.ok) {
      let message = response.status + "";
      try { message = (await response.json()).error || message; } catch (e) { /* not JSON */ }
      grading.textContent = message;
    }
  }

  function el(tag, text, className) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = text;
    if (className) e.className = className;
    return e;
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    const h = Math.floor(seconds / 3600), m = Math.floor(seconds / 60) % 60, s = seconds % 60;
    return (h ? h + ":" : "") + String(m).padStart(2, "0") + ":" + String(s).padStart(2, "0");
  }

  function render(summary) {
    const rows = [];
    for (const r of summary.rows) {
      const tr = el("tr");
      tr.dataset.trainee = r.id;
      const cells = [
        el("td", r.id), el("td", r.name),
        el("td", r.connected ? S.yes : S.no, r.connected ? "yes" : "no"),
        el("td", r.last_activity ? new Date(r.last_activity * 1000).toLocaleTimeString() : "—"),
        el("td", r.hosts_up + "/" + r.hosts_total),
        el("td", r.ended ? S.ended : duration(r.remaining)),
      ];
      const check = el("td");
      check.className = "check";
      if (r.check) {
        check.appendChild(el("strong", r.check.score + " / " + r.check.max));
        for (const [code, c] of Object.entries(r.check.competencies)) {
          check.appendChild(el("div", code + " : " + c.earned + "/" + c.max, c.mastered ? "yes" : "no"));
        }
      } else check.textContent = "—";
      cells.push(check);
      const report = el("td");
      if (r.report) { const a = el("a", S.report); a.href = r.report; report.appendChild(a); }
      cells.push(report);
      const recorded = el("td", null, "recordings");
      const link = el("a", S.recordings + " (" + (r.recordings || 0) + ")");
      link.href = r.recordings_url + "?lang=" + encodeURIComponent(lang);
      recorded.appendChild(link);
      cells.push(recorded);
      const actions = el("td");
      for (const host of r.hosts) {
        const b = el("button", S.reboot + " " + host.name, "reboot");
        b.dataset.host = host.name;
        b.title = host.running ? S.running : S.stopped;
        b.addEventListener("click", () => act(post("/instructor/reboot/" + encodeURIComponent(r.id) + "/" + encodeURIComponent(host.name))));
        actions.appendChild(b);
      }
      const extend = el("button", S.extend, "extend");
      extend.addEventListener("click", () => act(post("/instructor/extend", {trainee: r.id, minutes: Number(minutes.value)})));
      actions.appendChild(extend);
      cells.push(actions);
      tr.append(...cells);
      rows.push(tr);
    }
    tbody.replaceChildren(...rows);
    const g = summary.grading || {};
    grading.textContent = g.state ? S.grading + " : " + g.state + (g.message ? " (" + g.message + ")" : "") : "";
    const link = document.getElementById("class-report");
    link.hidden = !summary.class_report;
  }

  document.getElementById("extend-all").addEventListener("click", () => act(post("/instructor/extend", {minutes: Number(minutes.value)})));
  document.getElementById("grade-now").addEventListener("click", () => act(post("/instructor/grade")));

  const events = new EventSource("/instructor/events");
  events.onmessage = (event) => render(JSON.parse(event.data));
})();
