/* Phone layout of the tables marked tds-stack (static/css/app.css): each cell gets the text
   of its column header as data-label, shown before the value when rows stack. A cell whose
   template set data-label keeps it; rows added later (live updates) are labelled too. */
(function () {
  "use strict";
  function headers(table) {
    var out = [];
    var row = table.tHead && table.tHead.rows[0];
    if (!row) return out;
    Array.prototype.forEach.call(row.cells, function (th) {
      var text = (th.getAttribute("data-label") || th.textContent).replace(/\s+/g, " ").trim();
      for (var i = 0; i < (th.colSpan || 1); i++) out.push(text);
    });
    return out;
  }
  function label(table, body) {
    var names = headers(table);
    Array.prototype.forEach.call(body.rows, function (tr) {
      var col = 0;
      Array.prototype.forEach.call(tr.cells, function (td) {
        if (!td.hasAttribute("data-label") && names[col]) td.setAttribute("data-label", names[col]);
        col += td.colSpan || 1;
      });
    });
  }
  document.querySelectorAll("table.tds-stack").forEach(function (table) {
    Array.prototype.forEach.call(table.tBodies, function (body) {
      label(table, body);
      new MutationObserver(function () { label(table, body); }).observe(body, { childList: true });
    });
  });
})();
