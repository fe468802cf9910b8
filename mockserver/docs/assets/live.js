// The live docs (/__mock/docs/ on a running mock): "Send the sample request" on each
// operation, and the operation's last journaled requests, read through the control API
// (GET /__mock/requests?api=...). Only on the live pages; the static site has no mock to ask.
(function () {
  "use strict";
  var JOURNAL = "../requests";
  var PAGE = 1000; // entries per journal page; pages are followed via next_after when offered
  var MAX_PAGES = 20; // bounded: at most 20 000 entries are read for one refresh
  var SHOWN = 5;

  function cell(row, text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    row.appendChild(td);
  }

  async function journal(api) {
    // Every entry of one API, oldest first. A mock without paging answers everything at once
    // and ignores limit/after; one with paging answers next_after (null on the last page).
    var entries = [];
    var after = 0;
    for (var page = 0; page < MAX_PAGES; page++) {
      var query = "?api=" + encodeURIComponent(api) + "&limit=" + PAGE + (after ? "&after=" + after : "");
      var response = await fetch(JOURNAL + query, { headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error("HTTP " + response.status);
      var data = await response.json();
      entries = entries.concat(data.requests || []);
      if (data.next_after === undefined || data.next_after === null) break;
      after = data.next_after;
    }
    return entries;
  }

  function render(box, entries) {
    var mine = entries.filter(function (e) { return e.operation === box.dataset.operation; });
    var last = mine.slice(-SHOWN).reverse();
    var note = box.querySelector(".note");
    var old = box.querySelector("table");
    if (old) old.remove();
    if (!last.length) {
      note.textContent = "No requests to this operation yet (newest first, the last " + SHOWN + ").";
      return;
    }
    note.textContent = mine.length + " request(s) to this operation; the last " + last.length + ", newest first:";
    var table = document.createElement("table");
    var head = table.insertRow();
    ["#", "at (mock clock)", "request", "status", "verdict"].forEach(function (h) {
      var th = document.createElement("th");
      th.textContent = h;
      head.appendChild(th);
    });
    last.forEach(function (e) {
      var row = table.insertRow();
      cell(row, String(e.id));
      cell(row, e.at);
      cell(row, e.method + " " + e.path + (e.query ? "?" + e.query : ""));
      cell(row, e.status === 0 ? "dropped" : String(e.status));
      var first = (e.violations || [])[0];
      var verdict = e.valid ? "valid" : "invalid" + (first ? ": " + (first.key ? first.key + ": " : "") + first.message : "");
      cell(row, verdict + (e.fault ? " (fault)" : ""), e.valid ? "" : "bad");
    });
    box.appendChild(table);
  }

  async function refresh() {
    var boxes = Array.prototype.slice.call(document.querySelectorAll(".recent[data-api]"));
    var apis = {};
    boxes.forEach(function (box) { apis[box.dataset.api] = true; });
    for (var api in apis) {
      var entries;
      try {
        entries = await journal(api);
      } catch (error) {
        boxes.forEach(function (box) {
          if (box.dataset.api === api) box.querySelector(".note").textContent = "Could not read the journal: " + error.message;
        });
        continue;
      }
      boxes.forEach(function (box) { if (box.dataset.api === api) render(box, entries); });
    }
    document.body.dataset.journal = "loaded"; // for tests: the journal has been read
  }

  async function send(button) {
    var req = JSON.parse(button.dataset.request);
    var answer = button.parentNode.querySelector(".answer");
    answer.hidden = false;
    answer.textContent = "Sending " + req.method + " " + req.url + " ...";
    try {
      var options = { method: req.method, headers: req.headers };
      if (req.body !== undefined) options.body = req.body;
      var response = await fetch(req.url, options);
      var text = await response.text();
      try { text = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { /* not JSON */ }
      answer.textContent = response.status + " " + response.statusText + "\n" + text;
      answer.dataset.status = String(response.status);
    } catch (error) {
      answer.textContent = "The request failed: " + error.message;
    }
    await refresh();
  }

  document.querySelectorAll(".send[data-request]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { send(button); });
  });
  refresh();
})();
