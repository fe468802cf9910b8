// The docs' search box: filters window.DOCS_INDEX (assets/search-index.js) as you type.
// Plain DOM, no library, nothing leaves the page. Without scripts the box stays hidden and
// the pages read the same.
(function () {
  "use strict";
  var index = window.DOCS_INDEX;
  var box = document.querySelector(".search");
  if (!box || !Array.isArray(index)) return;
  var input = box.querySelector("input");
  var list = box.querySelector(".results");
  box.hidden = false;

  function matches(query) {
    var terms = query.toLowerCase().split(/\s+/).filter(Boolean);
    if (!terms.length) return [];
    var found = [];
    for (var i = 0; i < index.length; i++) {
      var entry = index[i];
      var title = entry.t.toLowerCase();
      var text = title + " " + entry.x.toLowerCase() + " " + entry.k;
      if (terms.every(function (t) { return text.indexOf(t) !== -1; })) {
        var score = terms.every(function (t) { return title.indexOf(t) !== -1; }) ? 0 : 1;
        found.push({ entry: entry, score: score, order: i });
      }
    }
    found.sort(function (a, b) { return a.score - b.score || a.order - b.order; });
    return found.slice(0, 20).map(function (f) { return f.entry; });
  }

  function show() {
    list.textContent = "";
    matches(input.value).forEach(function (entry) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = entry.u;
      link.textContent = entry.t;
      var note = document.createElement("small");
      note.textContent = entry.k + " · " + entry.x.slice(0, 120);
      link.appendChild(note);
      link.addEventListener("click", function () { list.textContent = ""; });
      item.appendChild(link);
      list.appendChild(item);
    });
  }

  input.addEventListener("input", show);
  input.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { input.value = ""; show(); }
    if (event.key === "Enter") {
      var first = list.querySelector("a");
      if (first) { first.click(); window.location.href = first.href; }
    }
  });
})();
