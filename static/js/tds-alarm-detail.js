/* Alarm detail: the device's readings around the alarm (min/avg/max per bucket), the
 * alarm's period as a red band and the rule's limits as dashed lines. */
(function () {
  "use strict";
  var d = JSON.parse(document.getElementById("alarm-chart-data").textContent);
  var F = window.TDSFormat;
  var pts = d.pontos.map(function (p) { return { x: Date.parse(p.t), avg: +p.avg, min: +p.min, max: +p.max }; });
  var start = Date.parse(d.inicio);
  var end = d.fim ? Date.parse(d.fim) : Date.now();
  var band = {
    id: "alarmBand",
    beforeDraw: function (chart) {
      var x = chart.scales.x, area = chart.chartArea, ctx = chart.ctx;
      var a = Math.max(x.getPixelForValue(start), area.left), b = Math.min(x.getPixelForValue(end), area.right);
      if (b <= a) return;
      ctx.save();
      ctx.fillStyle = "rgba(220, 53, 69, 0.15)";
      ctx.fillRect(a, area.top, b - a, area.bottom - area.top);
      ctx.restore();
    }
  };
  var datasets = [
    { label: "média", data: pts.map(function (p) { return { x: p.x, y: p.avg }; }), borderColor: "#0d6efd", backgroundColor: "#0d6efd", pointRadius: pts.length < 60 ? 3 : 0, tension: 0.2 },
    { label: "máx", data: pts.map(function (p) { return { x: p.x, y: p.max }; }), borderColor: "rgba(13,110,253,0.3)", pointRadius: 0 },
    { label: "mín", data: pts.map(function (p) { return { x: p.x, y: p.min }; }), borderColor: "rgba(13,110,253,0.3)", pointRadius: 0 }
  ];
  var x0 = Date.parse(d.de), x1 = Date.parse(d.ate);
  d.limites.forEach(function (v) {
    datasets.push({ label: "limite", data: [{ x: x0, y: +v }, { x: x1, y: +v }], borderColor: "#dc3545", borderDash: [6, 4], pointRadius: 0 });
  });
  new window.Chart(document.getElementById("alarm-chart"), {
    type: "line",
    data: { datasets: datasets },
    options: {
      animation: false, maintainAspectRatio: false, parsing: true,
      scales: {
        x: { type: "linear", min: x0, max: x1, ticks: { maxTicksLimit: 6, callback: function (v) { return F.shortDateTime(v); } } },
        y: { title: { display: true, text: d.unidade } }
      },
      plugins: { legend: { display: false } }
    },
    plugins: [band]
  });
})();
