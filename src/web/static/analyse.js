// The busy state of "Lancer l'analyse": the button is disabled and the
// status region (aria-live) says the analysis runs until the server
// answers; a refusal is said there in words. Without this script the form
// still works (POST, then the page again at #analyse).
// Texts come from the form's data-* attributes, so they stay in i18n.rs.
(function () {
  "use strict";
  var form = document.querySelector("form[data-analyse]");
  var status = document.getElementById("analyse-status");
  if (!form || !status || !window.fetch || !window.URLSearchParams) { return; }
  var button = form.querySelector("button[type=submit]");

  function say(text, className) {
    status.textContent = text;
    status.className = className;
  }

  function idle(text) {
    button.disabled = false;
    form.removeAttribute("aria-busy");
    say(text, "refused");
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (button.disabled) { return; }
    button.disabled = true;
    form.setAttribute("aria-busy", "true");
    say(form.getAttribute("data-busy"), "busy");
    var bar = document.createElement("progress");
    bar.setAttribute("aria-hidden", "true");
    status.appendChild(bar);
    fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (res) {
      return res.json().then(function (answer) {
        if (!res.ok || !answer.ok) {
          idle(form.getAttribute("data-failed") + " : " + (answer.message || res.status));
          return;
        }
        say(answer.message, "ok");
        var next = answer.next || window.location.pathname + "#analyse";
        var here = window.location.pathname + window.location.search;
        if (next.split("#")[0] === here) {
          // Same address: assigning it would only jump within the page.
          window.location.hash = "analyse";
          window.location.reload();
        } else {
          window.location.assign(next);
        }
      }, function () { idle(form.getAttribute("data-failed") + " : " + res.status); });
    }, function () {
      idle(form.getAttribute("data-failed") + " : " + form.getAttribute("data-network"));
    });
  });
})();
