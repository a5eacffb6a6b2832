/* Gateway telemetry panel: each device's latest value and a 24 h sparkline, live. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("tds-gateway-config").textContent);
  var F = window.TDSFormat, L = cfg.labels, getJSON = window.TDSLive.getJSON;
  var panel = document.getElementById("gateway-telemetry");
  var sparks = {};

  function field(kind) { return kind === "INSTANTANEO" ? "avg" : (kind === "INTERVALO" ? "sum" : "last"); }

  function loadSpark(dev) {
    var canvas = panel.querySelector('canvas.dev-spark[data-dispositivo-id="' + dev.id + '"]');
    if (!canvas) return;
    getJSON(cfg.urls.serie.replace("{id}", dev.id) + "?periodo=24h")
      .then(function (data) {
        var f = field(dev.tipo_medidor);
        var pts = data.pontos.map(function (p) { return { x: Date.parse(p.t), y: Number(p[f]) }; });
        if (sparks[dev.id]) sparks[dev.id].destroy();
        sparks[dev.id] = new Chart(canvas, {
          type: "line",
          data: { datasets: [{ data: pts, borderWidth: 1.5, pointRadius: 0, tension: 0.3 }] },
          options: {
            animation: false, responsive: true, maintainAspectRatio: false, parsing: false,
            plugins: { legend: { display: false }, tooltip: { enabled: false } },
            scales: { x: { type: "linear", display: false, min: pts.length ? pts[0].x : Date.parse(data.inicio), max: Date.parse(data.fim) }, y: { display: false } }
          }
        });
        canvas.dataset.points = pts.length;
      }).catch(function () {});
  }

  function setStatus(isOnline) {
    var el = document.getElementById("gw-status");
    el.dataset.online = isOnline ? "1" : "0";
    var dot = el.querySelector(".status-dot");
    dot.classList.toggle("status-online", isOnline);
    dot.classList.toggle("status-offline", !isOnline);
    el.querySelector(".gw-status-text").textContent = isOnline ? L.online : L.offline;
  }

  function showLatest(id, time, valor) {
    var row = panel.querySelector('tr[data-dispositivo-id="' + id + '"]');
    if (!row) return;
    var cell = row.querySelector(".dev-valor");
    cell.textContent = F.number(valor, Number(cell.dataset.casas || 0));
    row.querySelector(".dev-time").textContent = F.dateTime(time);
  }

  function onEvent(type, data) {
    if (type === "gateway_status" && String(data.gateway_id) === String(cfg.gateway.id)) {
      setStatus(data.is_online);
    } else if (type === "readings") {
      (data.readings || []).forEach(function (r) {
        if (String(r.gateway_id) !== String(cfg.gateway.id)) return;
        showLatest(r.dispositivo_id, r.time, r.valor);
        var chart = sparks[r.dispositivo_id];
        if (chart) {
          chart.data.datasets[0].data.push({ x: Date.parse(r.time), y: Number(r.valor) });
          chart.options.scales.x.max = Math.max(chart.options.scales.x.max, Date.parse(r.time));
          chart.update("none");
        }
      });
    }
  }

  function resync() {
    getJSON(cfg.urls.gateway.replace("{id}", cfg.gateway.id))
      .then(function (g) {
        setStatus(g.is_online);
        g.dispositivos.forEach(function (d) { if (d.ultima_leitura) showLatest(d.id, d.ultima_leitura.time, d.ultima_leitura.valor); });
      }).catch(function () {});
  }

  cfg.dispositivos.forEach(loadSpark);
  window.TDSLive.connect({ url: cfg.urls.sse, onEvent: onEvent, resync: resync, pollMs: 5000 });
})();
