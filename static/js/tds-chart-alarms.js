/* Alarms marked on device charts (dashboard series, gateway sparklines): a dashed red line
 * at the alarm's start and a shaded span until it was cleared (or the chart's right edge
 * while it is open), for the device the chart shows (its canvas's data-dispositivo-id).
 *
 * The marks come from the open-alarms panel ([data-alarm-marks-source]: open alarms and those
 * closed in the last 30 days) and follow the live `tds:alarm` events. Each canvas lists
 * the alarm ids it marks in data-alarm-marks (the charts say it in text too: a label
 * "alarme" on the larger charts). A Chart.js plugin, registered once Chart.js is there.
 */
(function () {
  "use strict";
  if (window.TDSAlarmMarks) return;  // the panel can be on a page twice
  var marks = {};
  var label = "alarme";

  function add(m) {
    if (!m || m.dispositivo_id === null || m.dispositivo_id === undefined) return;
    marks[m.id] = m;
  }

  function load() {
    var box = document.querySelector("[data-alarm-marks-source]");
    if (box) label = box.dataset.label;
    document.querySelectorAll("[data-alarm-marks-source] script").forEach(function (el) {
      try { JSON.parse(el.textContent).forEach(add); } catch (e) { /* ignore a bad block */ }
    });
  }

  function forDevice(id) {
    return Object.keys(marks).map(function (k) { return marks[k]; })
      .filter(function (m) { return String(m.dispositivo_id) === String(id); });
  }

  var plugin = {
    id: "tdsAlarmMarks",
    afterDatasetsDraw: function (chart) {
      var canvas = chart.canvas, id = canvas.dataset.dispositivoId;
      var xs = chart.scales && chart.scales.x;
      if (!id || !xs || (xs.type !== "linear" && xs.type !== "time")) return;
      var area = chart.chartArea, ctx = chart.ctx, drawn = [];
      var big = area.bottom - area.top >= 100;
      forDevice(id).forEach(function (m) {
        var t0 = Date.parse(m.inicio), t1 = m.fim ? Date.parse(m.fim) : Infinity;
        if (t1 < xs.min || t0 > xs.max) return;
        var x0 = Math.max(area.left, xs.getPixelForValue(Math.max(t0, xs.min)));
        var x1 = t1 === Infinity || t1 > xs.max ? area.right : xs.getPixelForValue(t1);
        ctx.save();
        ctx.fillStyle = "rgba(220, 53, 69, 0.14)";
        ctx.fillRect(x0, area.top, Math.max(2, x1 - x0), area.bottom - area.top);
        if (t0 >= xs.min) {
          ctx.strokeStyle = "rgb(220, 53, 69)";
          ctx.lineWidth = 2;
          ctx.setLineDash([4, 3]);
          ctx.beginPath();
          ctx.moveTo(x0, area.top);
          ctx.lineTo(x0, area.bottom);
          ctx.stroke();
          if (big) {
            ctx.setLineDash([]);
            ctx.fillStyle = "rgb(176, 42, 55)";
            ctx.font = "600 11px system-ui, sans-serif";
            var text = "⚠ " + label;
            var w = ctx.measureText(text).width;
            ctx.fillText(text, Math.min(x0 + 3, area.right - w), area.top + 11);
          }
        }
        ctx.restore();
        drawn.push(m.id);
      });
      var ids = drawn.join(",");
      if (canvas.dataset.alarmMarks !== ids) canvas.dataset.alarmMarks = ids;
    }
  };

  function redraw() {
    if (!window.Chart || !window.Chart.instances) return;
    Object.keys(window.Chart.instances).forEach(function (k) {
      var c = window.Chart.instances[k];
      if (c.canvas && c.canvas.dataset.dispositivoId) c.update("none");
    });
  }

  function register() {
    load();
    if (!window.Chart) return;
    window.Chart.register(plugin);
    redraw();
  }

  document.addEventListener("tds:alarm", function (ev) {
    var a = ev.detail && ev.detail.alarme;
    if (!a) return;
    add({ id: a.id, dispositivo_id: a.dispositivo_id, inicio: a.inicio, fim: a.fim, estado: a.estado, regra_nome: a.regra_nome });
    redraw();
  });

  window.TDSAlarmMarks = { forDevice: forDevice, redraw: redraw };
  // Chart.js is loaded by the page's own scripts, after this panel: register once all ran.
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", register);
  else register();
})();
