/* pt-BR formatting shared by the telemetry pages (same output as the server templates).
 * The time zone is the server's (settings.TIME_ZONE), from the json_script element
 * "tds-format-config" that the {% format_config %} tag writes before this script.
 * Also what the series charts (dashboard, device page) share: the series API's points
 * and a time-axis chart's options. */
(function () {
  "use strict";
  var TZ = JSON.parse(document.getElementById("tds-format-config").textContent).time_zone;
  var num = new Intl.NumberFormat("pt-BR", { maximumFractionDigits: 4 });
  var fixed = {};
  var dtParts = new Intl.DateTimeFormat("pt-BR", {
    timeZone: TZ, day: "2-digit", month: "2-digit", year: "numeric",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23"
  });
  var shortFmt = new Intl.DateTimeFormat("pt-BR", {
    timeZone: TZ, day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23"
  });
  var monthFmt = new Intl.DateTimeFormat("pt-BR", { timeZone: "UTC", month: "short", year: "numeric" });

  function parts(date) {
    var out = {};
    dtParts.formatToParts(date).forEach(function (p) { out[p.type] = p.value; });
    return out;
  }

  window.TDSFormat = {
    TZ: TZ,
    // `casas`: at least that many decimals (the meter's precision, as the server's
    // `medida`/`casas` filters: 110,660 next to 111,674), at most 4.
    number: function (v, casas) {
      if (v === null || v === undefined || v === "") return "—";
      if (!casas) return num.format(Number(v));
      var min = Math.min(4, casas);
      if (!fixed[min]) fixed[min] = new Intl.NumberFormat("pt-BR", { minimumFractionDigits: min, maximumFractionDigits: 4 });
      return fixed[min].format(Number(v));
    },
    dateTime: function (iso) {
      if (!iso) return "—";
      var p = parts(new Date(iso));
      return p.day + "/" + p.month + "/" + p.year + " " + p.hour + ":" + p.minute + ":" + p.second;
    },
    shortDateTime: function (ms) { return shortFmt.format(new Date(ms)); },
    month: function (yyyymm) {  // "2026-02" -> "fev. de 2026"
      var bits = yyyymm.split("-");
      return monthFmt.format(new Date(Date.UTC(Number(bits[0]), Number(bits[1]) - 1, 15)));
    },
    // A reading's row: a copy of the server's own (partials/reading_row.html, in the
    // <template> given), filled from a reading of the API or the live stream.
    readingRow: function (template, r) {
      var tr = template.content.firstElementChild.cloneNode(true);
      tr.dataset.dispositivoId = r.dispositivo_id;
      tr.dataset.time = r.time;
      tr.querySelector(".r-time").textContent = window.TDSFormat.dateTime(r.time);
      tr.querySelector(".r-gateway").textContent = r.gateway_codigo;
      tr.querySelector(".r-dispositivo").textContent = r.dispositivo_nome
        ? r.dispositivo_nome + " (" + r.dispositivo_codigo + ")" : r.dispositivo_codigo;
      tr.querySelector(".r-valor").textContent = window.TDSFormat.number(r.valor) + " " + (r.unidade || "");
      return tr;
    },
    // The series API's points as {x: ms, y} for one field (avg, min, max, sum, last, consumo).
    points: function (pontos, field) {
      return pontos.map(function (p) { return { x: Date.parse(p.t), y: p[field] === null ? null : Number(p[field]) }; });
    },
    // Chart.js options of a series chart: a linear time axis from xmin to xmax (pt-BR
    // ticks; `ticks` adds to them), the unit on the y axis, pt-BR tooltips.
    timeChartOptions: function (o) {
      var ticks = { callback: function (v) { return shortFmt.format(new Date(v)); } };
      Object.keys(o.ticks || {}).forEach(function (k) { ticks[k] = o.ticks[k]; });
      return {
        animation: false, responsive: true, maintainAspectRatio: false, parsing: false, normalized: true,
        interaction: { mode: "nearest", axis: "x", intersect: false },
        scales: {
          x: { type: "linear", min: o.xmin, max: o.xmax, ticks: ticks },
          y: { beginAtZero: !!o.beginAtZero, title: { display: true, text: o.unit } }
        },
        plugins: {
          tooltip: { callbacks: {
            title: function (items) { return items.length ? window.TDSFormat.dateTime(new Date(items[0].parsed.x).toISOString()) : ""; },
            label: function (item) { return item.dataset.label + ": " + window.TDSFormat.number(item.parsed.y); }
          } }
        }
      };
    }
  };
})();
