// Password fields: a "Show what I type" switch on every form marked data-password-tools, and
// a strength estimate under each new password (ASVS 2.1.8, 2.1.12). The server's rules
// (length, common passwords, likeness to the name) stay the only judge; this only helps.
(function () {
  "use strict";

  var MIN_LENGTH = 12;

  function estimate(value) {
    if (!value) return { level: 0, text: "" };
    if (value.length < MIN_LENGTH) {
      return { level: 1, text: "Too short: at least " + MIN_LENGTH + " characters." };
    }
    var kinds = 0;
    [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].forEach(function (pattern) {
      if (pattern.test(value)) kinds += 1;
    });
    var distinct = new Set(value).size;
    var score = value.length + kinds * 3 + Math.min(distinct, 16);
    if (distinct < 5) return { level: 1, text: "Weak: too few different characters." };
    if (score < 30) return { level: 2, text: "Fair: a longer passphrase would be stronger." };
    if (score < 40) return { level: 3, text: "Good." };
    return { level: 4, text: "Strong." };
  }

  function addMeter(input) {
    var meter = document.createElement("div");
    meter.className = "form-text password-strength";
    meter.setAttribute("aria-live", "polite");
    meter.setAttribute("data-testid", "password-strength");
    input.insertAdjacentElement("afterend", meter);
    input.addEventListener("input", function () {
      var result = estimate(input.value);
      meter.textContent = result.text;
      meter.dataset.level = String(result.level);
    });
  }

  function addSwitch(form) {
    var fields = form.querySelectorAll('input[type="password"]');
    if (!fields.length) return;
    var wrapper = document.createElement("div");
    wrapper.className = "form-check mb-3";
    var box = document.createElement("input");
    box.type = "checkbox";
    box.className = "form-check-input";
    box.id = (form.id || "form") + "-show-passwords";
    var label = document.createElement("label");
    label.className = "form-check-label";
    label.htmlFor = box.id;
    label.textContent = "Show what I type";
    wrapper.appendChild(box);
    wrapper.appendChild(label);
    var submit = form.querySelector('[type="submit"]');
    form.insertBefore(wrapper, submit);
    box.addEventListener("change", function () {
      fields.forEach(function (field) {
        field.type = box.checked ? "text" : "password";
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-password-tools]").forEach(function (form) {
      addSwitch(form);
      form.querySelectorAll('input[name="new_password1"], input[name="password1"]').forEach(addMeter);
    });
  });
})();
