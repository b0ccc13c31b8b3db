// The "Print" button of the label sheet (scripts come from files only: the CSP allows no inline script).
document.addEventListener("DOMContentLoaded", () => {
  const button = document.querySelector("[data-print]");
  if (button) {
    button.addEventListener("click", () => window.print());
  }
});
