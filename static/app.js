// Roster's own script: progressive enhancements only. Every action also works
// without JavaScript, through plain forms. No inline script is allowed (CSP).
(function () {
  "use strict";

  // Menus built on <details>: close on Escape (focus back on the summary)
  // and when focus or a click moves outside them.
  function closeMenus(except) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (menu !== except) menu.removeAttribute("open");
    });
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var menu = event.target.closest && event.target.closest("details.menu[open]");
    if (menu) {
      menu.removeAttribute("open");
      var summary = menu.querySelector("summary");
      if (summary) summary.focus();
    }
  });

  document.addEventListener("click", function (event) {
    closeMenus(event.target.closest && event.target.closest("details.menu"));
  });

  document.addEventListener("focusin", function (event) {
    closeMenus(event.target.closest && event.target.closest("details.menu"));
  });
})();
