// The decision form shows only the fields of the chosen kind of decision. Without this
// script every group stays visible and the server uses only the chosen kind's fields.
(function () {
  "use strict";
  document.querySelectorAll("form.decision-form").forEach(function (form) {
    var kind = form.querySelector("select[name=kind]");
    if (!kind) {
      return;
    }
    var show = function () {
      form.querySelectorAll("fieldset[data-decision-kind]").forEach(function (group) {
        group.hidden = group.dataset.decisionKind !== kind.value;
      });
    };
    kind.addEventListener("change", show);
    show();
  });
})();
