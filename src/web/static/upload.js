// Upload progress and drag and drop for the case page's upload forms.
// Without this script the forms still work (plain multipart POST).
// Texts come from the page (#upload-texts), so they stay in i18n.rs.
(function () {
  "use strict";
  var texts = document.getElementById("upload-texts");
  if (!texts || !window.FormData || !window.XMLHttpRequest) { return; }
  var say = function (key) { return texts.getAttribute("data-" + key) || key; };

  function row(list, name) {
    var li = document.createElement("li");
    var label = document.createElement("span");
    label.textContent = name;
    var bar = document.createElement("progress");
    bar.max = 100; bar.value = 0;
    bar.setAttribute("aria-label", say("sending") + " " + name);
    var status = document.createElement("span");
    status.className = "status";
    status.setAttribute("role", "status");
    li.appendChild(label); li.appendChild(bar); li.appendChild(status);
    list.appendChild(li);
    return { bar: bar, status: status, li: li };
  }

  function send(form, file, done) {
    var list = form.querySelector(".progress");
    var r = row(list, file.name);
    var data = new FormData();
    // The CSRF field first: the server checks it before storing a byte.
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.name && el.type !== "file" && el.type !== "submit") { data.append(el.name, el.value); }
    });
    data.append("file", file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) { r.bar.value = Math.round(100 * e.loaded / e.total); }
    };
    xhr.onload = function () {
      var answer = null;
      try { answer = JSON.parse(xhr.responseText); } catch (ignore) { answer = null; }
      var ok = xhr.status >= 200 && xhr.status < 300 && answer && answer.ok;
      r.bar.value = ok ? 100 : r.bar.value;
      r.li.className = ok ? "ok" : "refused";
      r.status.textContent = (ok ? say("done") : say("failed")) + " : " +
        (answer && answer.message ? answer.message : xhr.status + " " + xhr.statusText);
      done(ok);
    };
    xhr.onerror = function () {
      r.li.className = "refused";
      r.status.textContent = say("failed") + " : " + say("network");
      done(false);
    };
    xhr.send(data);
  }

  function sendAll(form, files) {
    var queue = Array.prototype.slice.call(files);
    var anyOk = false;
    var button = form.querySelector("button[type=submit]");
    if (button) { button.disabled = true; }
    (function next() {
      var file = queue.shift();
      if (!file) {
        if (button) { button.disabled = false; }
        // Show the new file in its place (grouped by supplier) once all went.
        if (anyOk && !form.querySelector(".refused")) {
          // (Same address: only a reload shows the new state; assigning it
          // would be a jump within the page.)
          if (window.location.search === "?ok=fichier") {
            window.location.reload();
          } else {
            window.location.assign(window.location.pathname + "?ok=fichier#documents");
          }
        }
        return;
      }
      send(form, file, function (ok) { anyOk = anyOk || ok; next(); });
    })();
  }

  Array.prototype.forEach.call(document.querySelectorAll("form[data-upload]"), function (form) {
    var input = form.querySelector("input[type=file]");
    form.addEventListener("submit", function (e) {
      if (!input.files || input.files.length === 0) { return; }
      e.preventDefault();
      form.querySelector(".progress").textContent = "";
      sendAll(form, input.files);
    });
    var zone = form.querySelector(".drop");
    zone.setAttribute("data-hint", say("drop"));
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (type) {
      zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (e) {
      if (!e.dataTransfer || !e.dataTransfer.files.length) { return; }
      if (!form.reportValidity || form.querySelectorAll(":invalid:not([type=file])").length === 0) {
        form.querySelector(".progress").textContent = "";
        sendAll(form, e.dataTransfer.files);
      } else {
        form.reportValidity();
      }
    });
  });
})();
