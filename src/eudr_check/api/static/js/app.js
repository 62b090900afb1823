// Shared behaviour of every page: local times, confirmations, copy buttons.
(function () {
  "use strict";
  var lang = document.documentElement.lang === "en" ? "en-GB" : "es-PE";

  // Times come from the server in UTC; show them in the visitor's own time zone.
  var format = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
  document.querySelectorAll("time[datetime]").forEach(function (el) {
    var when = new Date(el.getAttribute("datetime"));
    if (!isNaN(when.getTime())) {
      el.title = el.textContent;
      el.textContent = format.format(when);
    }
  });

  // Forms whose action cannot be undone ask first (revoke a token, stop sharing).
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      var done = function () { button.textContent = button.getAttribute("data-copied"); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(source.textContent).then(done);
      } else {
        window.getSelection().selectAllChildren(source);
      }
    });
  });
})();
