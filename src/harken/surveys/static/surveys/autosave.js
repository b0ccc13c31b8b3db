// Saves the answers given so far a moment after each change, so nothing is lost when
// the respondent leaves and comes back with the same link. Without this script the
// "Save and finish later" button does the same.
(function () {
  "use strict";
  var form = document.getElementById("survey-form");
  var status = document.getElementById("autosave-status");
  var script = document.currentScript;
  if (!form || form.dataset.autosave !== "1" || !window.fetch || !window.FormData) {
    return;
  }
  var savedText = script ? script.dataset.savedText : "";
  var timer = null;
  function save() {
    var data = new FormData(form);
    data.set("action", "save");
    fetch(form.action, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-Autosave": "1" },
    }).then(function (response) {
      if (response.status === 204 && status) {
        status.textContent = savedText;
      }
    }).catch(function () { /* the buttons still work */ });
  }
  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(save, 1200);
  }
  form.addEventListener("change", later);
  form.addEventListener("input", later);
  form.addEventListener("submit", function () { window.clearTimeout(timer); });
})();
