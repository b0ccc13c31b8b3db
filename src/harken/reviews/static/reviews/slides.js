// The slides' print button.
(function () {
  "use strict";
  var button = document.getElementById("print-slides");
  if (button) {
    button.addEventListener("click", function () {
      window.print();
    });
  }
})();
