/* The raw readings page (/telemetria/leituras/), live: after each "readings" event of the
 * account's stream (at most once a second), or on each poll when the stream is refused,
 * the newest readings are fetched again from the JSON API and the rows redrawn from the
 * server's own row (partials/reading_row.html), newest first by reading time. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("tds-readings-config").textContent);
  var F = window.TDSFormat, getJSON = window.TDSLive.getJSON;
  var body = document.getElementById("leituras-body");
  var template = document.getElementById("reading-row-template");
  var pending = null;

  function row(r) { return F.readingRow(template, r); }

  function refresh() {
    return getJSON(cfg.url).then(function (data) {
      if (data.leituras.length) body.replaceChildren.apply(body, data.leituras.map(row));
    }).catch(function () {});
  }

  function soon() {
    if (pending) return;
    pending = window.setTimeout(function () { pending = null; refresh(); }, 1000);
  }

  window.TDSLive.connect({
    url: cfg.sse,
    onEvent: function (type) { if (type === "readings") soon(); },
    resync: refresh,
    pollMs: 10000
  });
})();
