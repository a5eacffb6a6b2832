/* pt-BR formatting shared by the telemetry pages (same output as the server templates).
 * The time zone is the server's (settings.TIME_ZONE), from the json_script element
 * "tds-format-config" that the {% format_config %} tag writes before this script. */
(function () {
  "use strict";
  var TZ = JSON.parse(document.getElementById("tds-format-config").textContent).time_zone;
  var num = new Intl.NumberFormat("pt-BR", { maximumFractionDigits: 4 });
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
    number: function (v) { return v === null || v === undefined || v === "" ? "—" : num.format(Number(v)); },
    dateTime: function (iso) {
      if (!iso) return "—";
      var p = parts(new Date(iso));
      return p.day + "/" + p.month + "/" + p.year + " " + p.hour + ":" + p.minute + ":" + p.second;
    },
    shortDateTime: function (ms) { return shortFmt.format(new Date(ms)); },
    month: function (yyyymm) {  // "2026-02" -> "fev. de 2026"
      var bits = yyyymm.split("-");
      return monthFmt.format(new Date(Date.UTC(Number(bits[0]), Number(bits[1]) - 1, 15)));
    }
  };
})();
