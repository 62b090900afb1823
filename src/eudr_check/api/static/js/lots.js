// Lots: choosing plots for a new lot, and downloading a lot's compliance bundle.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("page-data").textContent);

  var form = document.getElementById("lot-form");
  if (form) {
    var boxes = Array.prototype.slice.call(form.querySelectorAll("input[name=plots]"));
    var count = document.getElementById("selected-count");
    var update = function () {
      var n = boxes.filter(function (b) { return b.checked; }).length;
      count.textContent = data.selected.replace("{n}", String(n));
    };
    form.addEventListener("change", update);
    form.querySelectorAll("[data-select]").forEach(function (button) {
      button.addEventListener("click", function () {
        var which = button.getAttribute("data-select");
        boxes.forEach(function (b) {
          b.checked = which === "all" || b.getAttribute("data-verdict") === which;
        });
        update();
      });
    });
  }

  // The bundle is built on request; while its plots are being (re)checked the server answers
  // 409 with a message, which the exporter must see instead of a downloaded error file.
  var link = document.getElementById("bundle");
  if (link) {
    var note = document.getElementById("bundle-message");
    var T = data.text;
    var say = function (text, kind) {
      note.textContent = text;
      note.className = kind || "";
    };
    link.addEventListener("click", function (event) {
      event.preventDefault();
      if (link.getAttribute("aria-disabled") === "true") return;
      link.setAttribute("aria-disabled", "true");
      say(T["lot.bundle_busy"]);
      // The evidence files themselves only when asked: the hashes are always in the manifest.
      var withFiles = document.getElementById("bundle-with-evidence");
      fetch(link.href + (withFiles && withFiles.checked ? "&evidence=true" : ""))
        .then(function (r) {
          if (r.ok) {
            var header = r.headers.get("Content-Disposition") || "";
            var match = /filename="?([^";]+)"?/.exec(header);
            return r.blob().then(function (blob) {
              var url = URL.createObjectURL(blob);
              var a = document.createElement("a");
              a.href = url;
              a.download = match ? match[1] : "bundle.zip";
              document.body.appendChild(a);
              a.click();
              a.remove();
              setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
              say(T["lot.bundle_done"], "ok-note");
            });
          }
          return r.json().then(function (body) {
            var text = body && body.message ? body.message[data.lang] : null;
            say(text || T["lot.bundle_failed"] + " (" + r.status + ")",
              r.status === 409 ? "notice" : "alert");
          }, function () { say(T["lot.bundle_failed"] + " (" + r.status + ")", "alert"); });
        })
        .catch(function () { say(T["lot.bundle_failed"], "alert"); })
        .finally(function () { link.removeAttribute("aria-disabled"); });
    });
  }
})();
