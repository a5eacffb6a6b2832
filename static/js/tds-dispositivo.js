/* A device's own page: its chart, from the series API (/api/v1/dispositivos/<id>/serie/).
 * Cumulative meters: consumption per interval by default (each point's `consumo`, the
 * server's billable rule: a rollover counts, any other step back counts zero), the
 * register on request; interval meters: consumption per interval; instantaneous meters:
 * the value (the interval's average). */
(function () {
  "use strict";
  var cfgEl = document.getElementById("tds-dispositivo-config");
  var canvas = document.getElementById("disp-chart");
  if (!cfgEl || !canvas) return;
  var cfg = JSON.parse(cfgEl.textContent);
  var F = window.TDSFormat;
  var L = cfg.labels;
  var dev = cfg.dispositivo;
  var unit = dev.unidade || "";
  var info = document.getElementById("disp-chart-info");
  var modo = document.getElementById("disp-modo");
  var state = { periodo: cfg.periodo, modo: "consumo", seq: 0 };
  var chart = null;

  function showsConsumption() {
    return dev.tipo_medidor === "INTERVALO" || (dev.tipo_medidor === "ACUMULADO" && state.modo === "consumo");
  }

  function dataset(pontos) {
    if (showsConsumption()) {
      // "flex": each bar as wide as its own interval (see tds-dashboard.js datasetsFor).
      return { type: "bar", label: L.consumo_intervalo + " (" + unit + ")", data: F.points(pontos, "consumo"), barThickness: "flex" };
    }
    var field = dev.tipo_medidor === "INSTANTANEO" ? "avg" : "last";
    var label = dev.tipo_medidor === "INSTANTANEO" ? L.valor : L.registrador;
    return { type: "line", label: label + " (" + unit + ")", data: F.points(pontos, field), borderWidth: 2, pointRadius: 2, tension: 0 };
  }

  function draw(data) {
    var ds = dataset(data.pontos);
    if (chart) chart.destroy();
    chart = new Chart(canvas, {
      type: ds.type,
      data: { datasets: [ds] },
      options: F.timeChartOptions({
        xmin: Date.parse(data.inicio), xmax: Date.parse(data.fim), unit: unit,
        beginAtZero: showsConsumption(),
        ticks: { maxTicksLimit: canvas.clientWidth < 500 ? 3 : 6, maxRotation: 0 }
      })
    });
    canvas.dataset.periodo = data.periodo;
    canvas.dataset.modo = showsConsumption() ? "consumo" : (dev.tipo_medidor === "INSTANTANEO" ? "valor" : "contador");
    canvas.dataset.points = ds.data.length;
    canvas.dataset.version = String(Number(canvas.dataset.version || 0) + 1);
    info.textContent = data.pontos.length
      ? data.resumo
      : L.vazio;
  }

  function load() {
    var seq = ++state.seq;
    return window.fetch(cfg.serie + "?periodo=" + encodeURIComponent(state.periodo), {
      credentials: "same-origin", headers: { Accept: "application/json" }
    }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (data) {
      if (seq === state.seq) draw(data);
    }).catch(function (e) {
      info.textContent = L.erro;
      console.error(e);
    });
  }

  if (modo) modo.addEventListener("change", function () { state.modo = modo.value; load(); });
  document.querySelectorAll("#disp-periodos [data-periodo]").forEach(function (btn) {
    btn.addEventListener("click", function () {
      document.querySelectorAll("#disp-periodos [data-periodo]").forEach(function (b) {
        b.classList.toggle("active", b === btn);
        b.setAttribute("aria-pressed", b === btn ? "true" : "false");
      });
      state.periodo = btn.dataset.periodo;
      load();
    });
  });
  load();
})();
