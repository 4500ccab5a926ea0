// Courtside's one script: small progressive enhancements, none needed for any task.
// - a "Copy" button beside each secret shown once (data-copy="ID of the element to copy");
// - forms marked data-confirm ask before they send (cancelling a hearing, revoking a secret).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-copy]").forEach(function (btn) {
    var target = document.getElementById(btn.getAttribute("data-copy"));
    if (!target || !navigator.clipboard) { return; }
    btn.hidden = false;
    btn.addEventListener("click", function () {
      navigator.clipboard.writeText(target.textContent.trim()).then(function () {
        var done = btn.getAttribute("data-done");
        if (done) { btn.textContent = done; }
      });
    });
  });
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { ev.preventDefault(); }
    });
  });
});
