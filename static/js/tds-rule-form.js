/* Alarm rule form: shows only the fields of the chosen kind ("Tipo"). Each kind-specific
   field is wrapped in an element with data-rule-kinds="kind kind ..." (alarmes/forms.py
   FIELD_KINDS; "_" = before a kind is chosen). Without JS every field stays visible and
   works. Hidden groups use the hidden attribute (display: none), so their controls are
   neither focusable nor read; a group showing an error stays visible. A target field
   (data-rule-target) hidden by a change of kind is emptied, so a device chosen for
   another kind does not break "exactly one target" out of sight. */
(function () {
  "use strict";
  var tipo = document.getElementById("id_tipo");
  if (!tipo) return;
  var groups = document.querySelectorAll("[data-rule-kinds]");
  function clear(group) {
    group.querySelectorAll("select, input").forEach(function (el) {
      if (el.tagName === "SELECT") {
        Array.prototype.forEach.call(el.options, function (o) { o.selected = false; });
        if (!el.multiple && el.options.length) el.selectedIndex = 0;
      } else {
        el.value = "";
      }
    });
  }
  function update(changed) {
    var kind = tipo.value || "_";
    groups.forEach(function (group) {
      var show = group.getAttribute("data-rule-kinds").split(" ").indexOf(kind) >= 0 ||
        group.querySelector(".is-invalid") !== null;
      if (!show && changed && !group.hidden && group.hasAttribute("data-rule-target")) clear(group);
      group.hidden = !show;
    });
  }
  tipo.addEventListener("change", function () { update(true); });
  update(false);
})();
