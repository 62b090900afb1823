// Upload page: drag and drop or choose a file, send it with a progress bar, show the
// validation report at once, then follow the forest check until it is done.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("page-data").textContent);
  var T = data.text;
  var SEVERITY_ORDER = { error: 0, warning: 1, repaired: 2 };
  var POLL_MS = 1500;

  function fmt(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, key) {
      return key in values ? String(values[key]) : whole;
    });
  }

  // Builds an element; text only (never HTML), so names from uploaded files stay inert.
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  function message(body, fallback) {
    if (body && body.message && body.message[data.lang]) return body.message[data.lang];
    return fallback;
  }

  function findingsTable(findings) {
    if (!findings.length) return el("p", { class: "ok-note" }, [T["report.no_findings"]]);
    var sorted = findings.slice().sort(function (a, b) {
      return (SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]) ||
        ((a.source_index || 0) - (b.source_index || 0));
    });
    var head = el("tr", {}, ["report.plot", "report.row", "report.severity", "report.problem"]
      .map(function (k) { return el("th", {}, [T[k]]); }));
    var rows = sorted.map(function (f) {
      return el("tr", { class: "sev-" + f.severity }, [
        el("td", {}, [f.plot_id || "—"]),
        el("td", { class: "num" }, [f.source_index == null ? "—" : String(f.source_index)]),
        el("td", {}, [el("span", { class: "badge f-" + f.severity }, [T["severity." + f.severity]])]),
        el("td", {}, [f.message[data.lang]]),
      ]);
    });
    return el("div", { class: "table-wrap" }, [
      el("table", { class: "findings" }, [el("thead", {}, [head]), el("tbody", {}, rows)]),
    ]);
  }

  // The same structure as the server-rendered report (templates/macros.html).
  function report(detail) {
    var v = detail.validation;
    var tally = ["ok", "warning", "error", "repaired"].map(function (k) {
      return el("li", { class: "t-" + k }, [el("strong", { "data-count": k }, [String(v[k])]),
        " " + T["report." + k]]);
    });
    return el("section", { class: "report", id: "report", "data-upload": String(detail.id) }, [
      el("h2", {}, [fmt(T["report.title"], { name: detail.file_name })]),
      el("p", { class: "summary" }, [fmt(T["report.summary"], detail)]),
      el("ul", { class: "tally" }, tally),
      el("h3", {}, [T["report.findings"]]),
      findingsTable(v.findings),
    ]);
  }

  function checkSection() {
    return el("section", { class: "check", id: "check", "aria-live": "polite" }, [
      el("p", { id: "check-text" }, []),
      el("progress", { id: "check-progress", max: "1", value: "0" }, []),
      el("p", {}, [el("a", { id: "results-link", class: "button", href: "/plots", hidden: "" },
        [T["check.results"]])]),
    ]);
  }

  function showCheck(check) {
    var text = document.getElementById("check-text");
    var bar = document.getElementById("check-progress");
    var section = document.getElementById("check");
    section.setAttribute("data-state", check.state);
    bar.max = Math.max(check.total, 1);
    bar.value = check.checked;
    if (check.state === "done") {
      text.textContent = fmt(T["check.done"], check);
      document.getElementById("results-link").hidden = false;
    } else if (check.state === "failed") {
      text.textContent = T["check.failed"] + (check.error ? " (" + check.error + ")" : "");
    } else {
      text.textContent = fmt(T["check.pending"], check);
    }
  }

  function poll(id) {
    fetch("/api/uploads/" + id, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (detail) {
        showCheck(detail.check);
        if (detail.check.state === "pending") setTimeout(poll, POLL_MS, id);
      })
      .catch(function () { setTimeout(poll, POLL_MS * 2, id); });
  }

  // The page of a stored upload: its report is server-rendered; follow its check if running.
  if (data.upload) {
    if (data.state === "pending") poll(data.upload);
    return;
  }

  var form = document.getElementById("upload-form");
  var input = document.getElementById("file");
  var drop = document.getElementById("drop");
  var progress = document.getElementById("progress");
  var progressText = document.getElementById("progress-text");
  var bar = document.getElementById("progress-bar");
  var error = document.getElementById("upload-error");
  var result = document.getElementById("upload-result");
  var busy = false;

  function fail(text) {
    busy = false;
    progress.hidden = true;
    error.textContent = text;
    error.hidden = false;
  }

  function send(file) {
    if (busy || !file) return;
    busy = true;
    error.hidden = true;
    result.hidden = true;
    result.replaceChildren();
    progress.hidden = false;
    progressText.textContent = fmt(T["upload.sending"], { name: file.name });
    bar.max = 100;
    bar.value = 0;

    var body = new FormData(form);
    body.set("file", file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("action"));
    xhr.responseType = "json";
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) { bar.max = e.total; bar.value = e.loaded; }
    };
    xhr.upload.onload = function () {
      progressText.textContent = T["upload.validating"];
      bar.removeAttribute("value"); // indeterminate while the server validates
    };
    xhr.onload = function () {
      if (xhr.status !== 201) {
        fail(message(xhr.response, T["upload.failed"] + " (" + xhr.status + ")"));
        return;
      }
      busy = false;
      progress.hidden = true;
      var detail = xhr.response;
      result.append(checkSection(), report(detail));
      result.hidden = false;
      showCheck(detail.check);
      if (detail.check.state === "pending") setTimeout(poll, POLL_MS, detail.id);
      input.value = "";
    };
    xhr.onerror = function () { fail(T["upload.network"]); };
    xhr.send(body);
  }

  input.addEventListener("change", function () { send(input.files[0]); });
  ["dragenter", "dragover"].forEach(function (name) {
    drop.addEventListener(name, function (e) {
      e.preventDefault();
      drop.classList.add("over");
    });
  });
  ["dragleave", "drop"].forEach(function (name) {
    drop.addEventListener(name, function (e) {
      e.preventDefault();
      drop.classList.remove("over");
    });
  });
  drop.addEventListener("drop", function (e) {
    if (e.dataTransfer && e.dataTransfer.files.length) send(e.dataTransfer.files[0]);
  });
  // A file dropped just outside the zone must not make the browser leave the page.
  window.addEventListener("dragover", function (e) { e.preventDefault(); });
  window.addEventListener("drop", function (e) { e.preventDefault(); });
  form.addEventListener("submit", function (e) { e.preventDefault(); send(input.files[0]); });
})();
