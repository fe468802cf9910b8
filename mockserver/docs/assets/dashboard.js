// The live dashboard (issue 20): everything here comes from the control API under /__mock.
// Hand-written, no library, no network beyond the mock itself.
"use strict";
(function () {
  const base = new URL("../", document.baseURI);  // /__mock/
  const $ = (id) => document.getElementById(id);
  let entries = [];

  // A mock run with a control token (X-Mock-Token) takes it from a `#token=` fragment, which
  // never leaves the browser, or from the token form; it is kept for this tab only
  // (sessionStorage) and sent as the header, never in a URL that reaches a log.
  const KEY = "mockserver-control-token";
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.has("token")) {
    sessionStorage.setItem(KEY, fragment.get("token"));
    fragment.delete("token");
    const rest = fragment.toString();
    history.replaceState(null, "", location.pathname + location.search + (rest ? "#" + rest : ""));
  }
  const token = () => sessionStorage.getItem(KEY);

  class NeedsToken extends Error {}

  async function call(method, path, body) {
    const init = { method, headers: {} };
    if (token()) init.headers["X-Mock-Token"] = token();
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const r = await fetch(new URL(path, base), init);
    const text = await r.text();
    const type = r.headers.get("content-type") || "";
    const data = type.startsWith("application/json") && text ? JSON.parse(text) : text;
    if (r.status === 401) throw new NeedsToken((data.error && data.error.message) || "401");
    if (!r.ok) throw new Error((data.error && data.error.message) || r.status + "");
    return data;
  }

  function askForToken(message) {
    $("token-form").hidden = false;
    $("token-error").textContent = token() ? "that token was refused: " + message : message;
  }

  function cell(row, text) {
    const td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  async function refreshClock() {
    const clock = await call("GET", "clock");
    $("clock-now").textContent = clock.now;
    $("clock-frozen").textContent = clock.frozen ? "(frozen)" : "(running)";
  }

  async function refreshReport() {
    // The report's HTML is the mock's own, every value escaped by it: the timelines drawn once.
    const html = await call("GET", "report?format=html");
    const doc = new DOMParser().parseFromString(html, "text/html");
    const target = $("report");
    target.replaceChildren(...Array.from(doc.body.childNodes));
    const style = doc.querySelector("style");
    if (style && !$("report-style")) {
      style.id = "report-style";
      document.head.appendChild(style);
    }
  }

  async function refreshFaults() {
    const rows = $("fault-rows");
    const { faults } = await call("GET", "faults");
    rows.replaceChildren();
    for (const f of faults) {
      const tr = document.createElement("tr");
      tr.className = "fault";
      tr.dataset.id = f.id;
      for (const v of [f.id, f.api, f.operation || "any", f.status, f.remaining ?? "∞"]) cell(tr, v);
      const button = document.createElement("button");
      button.textContent = "remove";
      button.addEventListener("click", async () => {
        await call("DELETE", "faults/" + encodeURIComponent(f.id));
        await refreshFaults();
      });
      cell(tr, "").appendChild(button);
      rows.appendChild(tr);
    }
  }

  async function refreshJournal() {
    let after = 0;
    const all = [];
    for (let page = 0; page < 20; page++) {  // bounded: at most 20 pages
      const data = await call("GET", "requests?limit=500&after=" + after);
      all.push(...data.requests);
      if (!data.next_after) break;
      after = data.next_after;
    }
    entries = all;
    renderJournal();
  }

  function renderJournal() {
    const api = $("filter-api").value.trim();
    const status = $("filter-status").value.trim();
    const valid = $("filter-valid").value;
    const faulted = $("filter-fault").checked;
    const proxied = $("filter-proxied").value;
    const rows = $("journal-rows");
    rows.replaceChildren();
    for (const e of entries) {
      if (api && e.api !== api) continue;
      if (status && String(e.status) !== status) continue;
      if (valid && String(e.valid) !== valid) continue;
      if (faulted && !e.fault) continue;
      if (proxied === "proxied" && !e.proxied) continue;
      if (proxied === "failed" && !(e.proxied && e.proxied.error)) continue;
      if (proxied === "mocked" && e.proxied) continue;
      const tr = document.createElement("tr");
      tr.className = "entry" + (e.valid ? "" : " invalid");
      tr.dataset.id = e.id;
      for (const v of [e.id, e.at, e.api, e.method + " " + e.path, e.status, e.valid]) cell(tr, v);
      cell(tr, e.fault ? e.fault.id : "");
      proxiedCell(cell(tr, ""), e.proxied);
      tr.addEventListener("click", () => showDetail(e));
      rows.appendChild(tr);
    }
  }

  // A proxied request (issue 19): the upstream's status and time, or why it gave no answer
  // (the proxy's own 502/504), so an upstream failure never reads as the upstream's 5xx.
  function proxiedCell(td, proxied) {
    if (!proxied) return;
    const badge = document.createElement("span");
    badge.className = "badge" + (proxied.error ? " failed" : "");
    badge.dataset.upstreamStatus = proxied.status === null ? "" : String(proxied.status);
    badge.textContent = proxied.error
      ? "upstream failed · " + proxied.ms + " ms"
      : "upstream " + proxied.status + " · " + proxied.ms + " ms";
    badge.title = proxied.error || proxied.url;
    td.className = "proxied";
    td.appendChild(badge);
  }

  function showDetail(e) {
    $("detail").hidden = false;
    const list = $("detail-violations");
    list.replaceChildren();
    for (const v of e.violations || []) {
      const li = document.createElement("li");
      li.className = "violation";
      li.dataset.location = v.location || "";
      li.textContent = (v.location || "") + " " + (v.key || v.rule) + ": " + v.message;
      list.appendChild(li);
    }
    $("detail-json").textContent = JSON.stringify(e, null, 2);
  }

  async function refresh() {
    try {
      await Promise.all([refreshClock(), refreshReport(), refreshFaults(), refreshJournal()]);
      document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
      $("token-form").hidden = true;
    } catch (err) {
      if (err instanceof NeedsToken) askForToken(err.message);
      else $("fault-error").textContent = "refresh failed: " + err.message;
    }
  }

  async function act(promise) {
    $("fault-error").textContent = "";
    try {
      await promise;
    } catch (err) {
      $("fault-error").textContent = err.message;
    }
    await refresh();
  }

  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY, $("token").value);
    $("token").value = "";
    refresh();
  });
  // The report is a navigation, which can't carry the header: fetched with it, then shown.
  $("report-link").addEventListener("click", async (event) => {
    if (!token()) return;
    event.preventDefault();
    const html = await call("GET", "report?format=html");
    const blob = new Blob([html], { type: "text/html" });
    window.open(URL.createObjectURL(blob), "_blank");
  });
  $("advance").addEventListener("click", () =>
    act(call("POST", "clock/advance", { seconds: Number($("advance-seconds").value) })));
  $("freeze").addEventListener("click", () => act(call("POST", "clock/freeze")));
  $("unfreeze").addEventListener("click", () => act(call("POST", "clock/unfreeze")));
  $("fault-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const rule = { api: $("fault-api").value.trim(), status: Number($("fault-status").value) };
    if ($("fault-operation").value.trim()) rule.operation = $("fault-operation").value.trim();
    if ($("fault-times").value) rule.times = Number($("fault-times").value);
    act(call("POST", "faults", rule));
  });
  for (const id of ["filter-api", "filter-status", "filter-valid", "filter-fault", "filter-proxied"]) {
    $(id).addEventListener("input", renderJournal);
  }
  refresh();
  setInterval(refresh, 2000);
})();
