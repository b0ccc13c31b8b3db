// Keyboard shortcuts of the triage queue (templates/feedback/triage.html).
//
//   Enter  confirm what is selected and go to the next item
//   1-9    pick the category with that number
//   i      cycle the impact (not rated, minor, major, critical)
//   s      skip this item
//
// Kept in a static file because the content security policy forbids inline scripts.
// Keys typed into a text field, a select or with a modifier are left alone.
(function () {
  "use strict";

  var form = document.getElementById("triage-form");
  if (!form) {
    return;
  }

  function isTyping(target) {
    if (!target || !target.tagName) {
      return false;
    }
    var tag = target.tagName.toLowerCase();
    if (tag === "textarea" || tag === "select" || target.isContentEditable) {
      return true;
    }
    if (tag === "input") {
      var type = (target.type || "").toLowerCase();
      return ["radio", "checkbox", "button", "submit"].indexOf(type) === -1;
    }
    return false;
  }

  function pick(radio) {
    if (radio) {
      radio.checked = true;
      radio.focus();
    }
  }

  function cycleImpact() {
    var radios = Array.prototype.slice.call(form.querySelectorAll("input[data-impact]"));
    if (!radios.length) {
      return;
    }
    var current = radios.findIndex(function (radio) { return radio.checked; });
    pick(radios[(current + 1) % radios.length]);
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) {
      return;
    }
    if (isTyping(event.target)) {
      return;
    }
    var key = event.key;
    if (key === "Enter") {
      var tag = event.target && event.target.tagName ? event.target.tagName.toLowerCase() : "";
      if (tag === "a" || tag === "button" || tag === "summary") {
        return; // the focused control does its own thing
      }
      event.preventDefault();
      form.requestSubmit();
    } else if (/^[1-9]$/.test(key)) {
      var radio = form.querySelector('input[data-category-key="' + key + '"]');
      if (radio) {
        event.preventDefault();
        pick(radio);
      }
    } else if (key === "i" || key === "I") {
      event.preventDefault();
      cycleImpact();
    } else if (key === "s" || key === "S") {
      var skip = form.getAttribute("data-skip-url");
      if (skip) {
        event.preventDefault();
        window.location.assign(skip);
      }
    }
  });

  // Start with the keyboard on the form, not on the page's navigation.
  var selected = form.querySelector("input[data-category-key]:checked");
  if (selected) {
    selected.focus();
  }
})();
