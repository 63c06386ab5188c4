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

  // A row's More actions menu sits in a table that scrolls sideways in its card, which
  // would clip it: while open it is placed against the window instead, below its
  // button, or above it when the window has no room below, and follows the button
  // when the page scrolls. Without JavaScript it opens in place.
  function placeRowMenu(menu) {
    var list = menu.querySelector(".menu-list");
    if (!list) return;
    list.style.top = list.style.bottom = list.style.right = "";
    if (!menu.open) {
      list.classList.remove("menu-floating");
      return;
    }
    var button = menu.querySelector("summary").getBoundingClientRect();
    list.classList.add("menu-floating");
    list.style.right = Math.max(8, window.innerWidth - button.right) + "px";
    var room = list.offsetHeight + 12;
    if (window.innerHeight - button.bottom >= room || button.top < room) {
      list.style.top = button.bottom + 4 + "px";
    } else {
      list.style.bottom = window.innerHeight - button.top + 4 + "px";
    }
  }
  document.addEventListener("toggle", function (event) {
    if (event.target.matches && event.target.matches("details.row-menu")) placeRowMenu(event.target);
  }, true);
  ["scroll", "resize"].forEach(function (name) {
    window.addEventListener(name, function () {
      document.querySelectorAll("details.row-menu[open]").forEach(placeRowMenu);
    }, true);
  });

  // Dialogs. A link with data-open-dialog="ID" opens <dialog id=ID> instead of
  // navigating (without JavaScript it goes to a page with the same form).
  // Native modal dialogs trap focus and close on Escape; focus returns to the opener.
  var opener = null;
  function openDialog(dialog, from) {
    if (!dialog || dialog.open) return;
    opener = from || document.activeElement;
    dialog.showModal();
    // A confirmation opens on Cancel ([autofocus]); a form on its first field.
    var first = dialog.querySelector("[autofocus]") ||
      dialog.querySelector("textarea, input:not([type=hidden]), select, button[type=submit]");
    if (first) first.focus();
  }

  // After an in-place action, focus goes to the table row it changed or, when the
  // row is gone, to the page's heading; not to <body>. Inside a dialog this waits
  // until the dialog has closed.
  var changedRow = null;
  function focusChanged() {
    if (changedRow === null) return;
    var target = document.getElementById(changedRow) || document.querySelector("main h1");
    changedRow = null;
    if (!target) return;
    if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
    target.focus();
  }
  function closeDialog(dialog) {
    if (!dialog || !dialog.open) return;
    dialog.close();
  }
  document.addEventListener("close", function (event) {
    if (event.target.tagName === "DIALOG" && changedRow !== null) {
      focusChanged();
    } else if (event.target.tagName === "DIALOG") {
      // Back to the opener, or to its new copy when a refresh replaced it (the invite
      // dialog's answer refreshes the page head that holds Invite Members).
      var back = opener && document.contains(opener) ? opener
        : event.target.id ? document.querySelector('[data-open-dialog="' + event.target.id + '"], [data-dialog-opener="' + event.target.id + '"]') : null;
      if (back) back.focus();
    }
    if (event.target.tagName === "DIALOG" && event.target.parentElement && event.target.parentElement.id === "dialog-slot") {
      event.target.remove();
    }
  }, true);

  // A modal dialog keeps Tab inside it: past its last control focus goes to its first,
  // and Shift+Tab from its first to its last (browsers would move on to their own UI).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Tab") return;
    var dialog = document.querySelector("dialog[open]");
    if (!dialog) return;
    var controls = Array.prototype.filter.call(
      dialog.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex='-1'])"),
      function (el) { return !el.disabled && el.offsetParent !== null; }
    );
    if (controls.length === 0) return;
    var first = controls[0], last = controls[controls.length - 1];
    if (!dialog.contains(document.activeElement)) {
      event.preventDefault();
      first.focus();
    } else if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  });

  document.addEventListener("click", function (event) {
    var open = event.target.closest && event.target.closest("[data-open-dialog]");
    if (open) {
      event.preventDefault();
      openDialog(document.getElementById(open.getAttribute("data-open-dialog")), open);
      return;
    }
    var close = event.target.closest && event.target.closest("[data-close-dialog]");
    if (close && close.closest("dialog")) {
      event.preventDefault();
      closeDialog(close.closest("dialog"));
      return;
    }
    var copy = event.target.closest && event.target.closest("[data-copy]");
    if (copy) {
      var field = document.getElementById(copy.getAttribute("data-copy"));
      if (!field) return;
      field.select();
      var done = function () { copy.textContent = "Copied"; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); });
      } else {
        document.execCommand("copy");
        done();
      }
    }
  });

  // The notification bell. Without JavaScript the button opens the Notifications
  // page; with it, a dropdown loaded by htmx (so the disclosure attributes are
  // set here, not in the HTML). Enter or Space opens it (it is a button), Escape
  // closes it from anywhere and focus returns to the button; it also closes when
  // focus or a click leaves it.
  function bellParts() {
    return { button: document.getElementById("bell-button"), panel: document.getElementById("bell-panel") };
  }
  var initial = bellParts();
  if (initial.button && window.htmx) {
    initial.button.setAttribute("aria-expanded", "false");
    initial.button.setAttribute("aria-controls", "bell-panel");
  }
  function bellOpen() {
    var bell = bellParts();
    return bell.panel && !bell.panel.hidden;
  }
  function closeBell(focusButton) {
    var bell = bellParts();
    if (!bellOpen()) return;
    bell.panel.hidden = true;
    bell.button.setAttribute("aria-expanded", "false");
    if (focusButton) bell.button.focus();
  }
  function openBell() {
    var bell = bellParts();
    bell.panel.hidden = false;
    bell.button.setAttribute("aria-expanded", "true");
    bell.panel.innerHTML = '<p class="bell-loading" role="status">Loading…</p>';
    window.htmx.ajax("GET", "/notifications/panel", { target: "#bell-panel", swap: "innerHTML" }).then(function () {
      // The first item (not `Mark all as read`, which is rarely what one opens the bell for);
      // with nothing in it, its heading.
      var first = bell.panel.querySelector(".bell-list a, .bell-list button") || bell.panel.querySelector(".bell-title");
      if (first) first.focus();
    });
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-bell]");
    if (button && window.htmx) {
      event.preventDefault();
      if (bellOpen()) closeBell(true); else openBell();
      return;
    }
    if (!(event.target.closest && event.target.closest("#bell"))) closeBell(false);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && bellOpen()) closeBell(true);
  });
  document.addEventListener("focusin", function (event) {
    if (bellOpen() && !(event.target.closest && event.target.closest("#bell"))) closeBell(false);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    // An answer or "Mark all as read" replaced what had focus: keep focus in the
    // panel, on the answered item's outcome (found again by id) or its heading.
    var panel = bellParts().panel;
    var target = event.detail.target;
    if (!panel || panel.hidden || panel.contains(document.activeElement)) return;
    var answered = target && target.id ? document.getElementById(target.id) : null;
    var focus = answered && panel.contains(answered) ? answered : panel.querySelector(".bell-title");
    if (focus) focus.focus();
  });

  // Live updates: the server pushes a "bell" event whenever this user's bell
  // changes (PostgreSQL LISTEN/NOTIFY behind it); the count is then fetched.
  // The poll every 15 s stays as the fallback. Signed out: both stop.
  // Only visible tabs hold a stream open (browsers allow few connections per
  // host); a tab that becomes visible again reconnects and refreshes at once.
  var poll = document.getElementById("bell-poll");
  var stream = null;
  var signedOut = false;
  function connect() {
    if (stream || signedOut || !poll || !window.EventSource || !window.htmx) return;
    stream = new EventSource(poll.getAttribute("data-bell-stream"));
    var opened = false;
    stream.addEventListener("open", function () {
      // Reopened after the server restarted (it says when to come back): catch up.
      if (opened) {
        window.htmx.trigger(poll, "refresh");
        window.htmx.trigger(document.body, "bellStream");
      }
      opened = true;
    });
    watchForGivingUp();
    stream.addEventListener("bell", function () {
      window.htmx.trigger(poll, "refresh");
      // Parts of the page about the same things (the Dashboard's invitations) refresh too.
      window.htmx.trigger(document.body, "bellStream");
    });
  }
  // A stream the browser gave up on (a restart behind a proxy answered 502) is
  // opened again, later each time; the poll covers the gap.
  var retryDelay = 2000;
  function watchForGivingUp() {
    stream.addEventListener("open", function () { retryDelay = 2000; });
    stream.addEventListener("error", function () {
      if (!stream || stream.readyState !== EventSource.CLOSED) return;
      stream = null;
      setTimeout(function () { if (document.visibilityState !== "hidden") connect(); }, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 60000);
    });
  }
  function disconnect() {
    if (stream) stream.close();
    stream = null;
  }
  if (document.visibilityState !== "hidden") connect();
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      disconnect();
    } else {
      connect();
      if (poll && window.htmx && !signedOut) {
        window.htmx.trigger(poll, "refresh");
        window.htmx.trigger(document.body, "bellStream");
      }
    }
  });
  var lastLabel = poll && document.getElementById("bell-label") ? document.getElementById("bell-label").textContent : "";
  // On a narrow screen the main navigation starts folded behind its Menu button.
  // Widening the window (or turning a tablet) opens it again: above 800 px it has no button.
  var sidenav = document.querySelector("details.sidenav-menu");
  var narrow = window.matchMedia ? window.matchMedia("(max-width: 800px)") : null;
  if (sidenav && narrow) {
    if (narrow.matches) sidenav.open = false;
    narrow.addEventListener("change", function () { sidenav.open = !narrow.matches; });
  }
  // Below 640 px a table's filters fold behind their Filters button (whose badge
  // says how many are set); wider, they are always open and the button hidden.
  var phone = window.matchMedia ? window.matchMedia("(max-width: 640px)") : null;
  function foldFilters() {
    document.querySelectorAll("details.filter-fold").forEach(function (fold) { fold.open = !phone.matches; });
  }
  if (phone) {
    foldFilters();
    phone.addEventListener("change", foldFilters);
  }

  // Type-ahead pickers (templates/_picker.html). The text field becomes a WAI-ARIA
  // combobox: as one types, the server answers with a page of matches as listbox
  // options (arrows move, Enter chooses, Escape closes). A multiple picker adds each
  // choice as a chip (the server's own markup, from the option's <template>) and
  // Backspace in the empty field removes the last one; a single picker fills the
  // field. Written here rather than taken from a library because it is small and
  // tied to the chips' markup. Without JavaScript the same field works through Find,
  // or is resolved by the server on submit.
  function setUpPicker(root) {
    if (root.hasAttribute("data-picker-ready")) return;
    root.setAttribute("data-picker-ready", "");
    var input = root.querySelector(".picker-box input");
    var list = root.querySelector("[role=listbox]");
    var chips = root.querySelector(".chips");
    var status = root.querySelector("[data-picker-status]");
    var source = root.getAttribute("data-source");
    var chipField = root.getAttribute("data-chips");
    if (!input || !list || !source || !window.fetch) return;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    var find = root.querySelector(".picker-find");
    if (find) find.hidden = true;
    var timer = null, latest = 0, active = -1;

    function say(words) { if (status) status.textContent = words; }
    function options() {
      return Array.prototype.filter.call(list.querySelectorAll("[role=option]"), function (option) {
        return option.getAttribute("aria-disabled") !== "true" && !option.hidden;
      });
    }
    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }
    function chosen(value) {
      return chips && chips.querySelector('[data-chip="' + value + '"]');
    }
    function load(href, append) {
      var mine = ++latest;
      fetch(href, { credentials: "same-origin", headers: { "HX-Request": "true" } })
        .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
        .then(function (html) {
          if (mine !== latest) return;
          var more = list.querySelector("[data-more]");
          if (append && more) more.remove();
          if (append) list.insertAdjacentHTML("beforeend", html); else list.innerHTML = html;
          Array.prototype.forEach.call(list.querySelectorAll("[role=option]"), function (option, i) {
            option.id = list.id + "-" + i;
            if (option.hasAttribute("data-value") && chosen(option.getAttribute("data-value"))) option.hidden = true;
          });
          list.hidden = false;
          input.setAttribute("aria-expanded", "true");
          var found = options().filter(function (o) { return !o.hasAttribute("data-more"); }).length;
          say(found === 0 ? "No matches" : found === 1 ? "1 match" : found + " matches");
          if (append) move(active); else active = -1;
        }, function () { if (mine === latest) close(); });
    }
    function search() {
      var href = source + (source.indexOf("?") < 0 ? "?" : "&") + (chipField ? "chip=" + chipField + "&" : "") +
        "q=" + encodeURIComponent(input.value.trim());
      load(href, false);
    }
    function move(to) {
      var all = options();
      if (all.length === 0) return;
      active = (to + all.length) % all.length;
      all.forEach(function (option, i) { option.setAttribute("aria-selected", i === active ? "true" : "false"); });
      input.setAttribute("aria-activedescendant", all[active].id);
      all[active].scrollIntoView({ block: "nearest" });
    }
    function choose(option) {
      if (option.hasAttribute("data-more")) { load(option.getAttribute("data-more"), true); return; }
      var label = option.querySelector(".option-label");
      label = label ? label.textContent : "";
      if (chips) {
        var template = option.querySelector("template");
        if (template && !chosen(option.getAttribute("data-value"))) chips.appendChild(template.content.cloneNode(true));
        input.value = "";
        say(label + " added");
      } else {
        input.value = option.getAttribute("data-fill") || label;
        say(label + " chosen");
      }
      close();
      input.focus();
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(search, 200);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (list.hidden) search(); else move(active + 1);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        if (!list.hidden) move(active - 1);
      } else if (event.key === "Enter") {
        if (!list.hidden && active >= 0) {
          event.preventDefault();
          choose(options()[active]);
        } else if (chips) {
          // In a multiple picker Enter searches; it never sends the form.
          event.preventDefault();
          search();
        }
      } else if (event.key === "Escape" && !list.hidden) {
        event.preventDefault();
        event.stopPropagation();
        close();
      } else if (event.key === "Backspace" && chips && input.value === "" && chips.lastElementChild) {
        var last = chips.lastElementChild;
        var name = last.querySelector(".chip-label");
        last.remove();
        say((name ? name.textContent : "Last choice") + " removed");
      }
    });
    input.addEventListener("blur", function () { close(); });
    // A click on an option chooses it without taking focus from the field.
    list.addEventListener("mousedown", function (event) { event.preventDefault(); });
    list.addEventListener("click", function (event) {
      var option = event.target.closest("[role=option]");
      if (option && option.getAttribute("aria-disabled") !== "true") choose(option);
    });
    if (chips) {
      chips.addEventListener("click", function (event) {
        var remove = event.target.closest(".chip-remove");
        if (!remove) return;
        event.preventDefault();
        var chip = remove.closest(".chip");
        var name = chip.querySelector(".chip-label");
        chip.remove();
        say((name ? name.textContent : "Choice") + " removed");
        input.focus();
      });
    }
  }
  function setUpPickers(root) {
    if (!root || !root.querySelectorAll) return;
    if (root.matches && root.matches("[data-picker]")) setUpPicker(root);
    root.querySelectorAll("[data-picker]").forEach(setUpPicker);
  }
  setUpPickers(document);
  document.addEventListener("htmx:load", function (event) { setUpPickers(event.target); });

  // A select that chooses where to go (Settings' sections on a phone) goes there as
  // soon as it changes; its Go button is for browsers without JavaScript.
  document.querySelectorAll("[data-autosubmit-button]").forEach(function (button) { button.hidden = true; });
  document.addEventListener("change", function (event) {
    var select = event.target.closest && event.target.closest("select[data-autosubmit]");
    if (select && select.form) select.form.submit();
  });

  // Copy buttons need JavaScript: the markup hides them, this shows them.
  function showCopyButtons(root) {
    if (!root || !root.querySelectorAll) return;
    root.querySelectorAll("[data-copy][hidden]").forEach(function (button) { button.hidden = false; });
  }
  showCopyButtons(document);
  document.addEventListener("htmx:load", function (event) { showCopyButtons(event.target); });

  // Bulk actions: the header's checkbox selects every row of the page (it needs this
  // script, so it stays hidden without it; the rows' own checkboxes work anyway).
  function showPageSelectors(root) {
    if (!root || !root.querySelectorAll) return;
    root.querySelectorAll("[data-select-page][hidden]").forEach(function (box) { box.hidden = false; });
  }
  showPageSelectors(document);
  document.addEventListener("htmx:load", function (event) { showPageSelectors(event.target); });
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.hasAttribute || !box.hasAttribute("data-select-page")) return;
    var table = box.closest("table");
    if (!table) return;
    table.querySelectorAll("input[type=checkbox][name=member]").forEach(function (row) { row.checked = box.checked; });
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.elt !== poll) return;
    if (event.detail.xhr && event.detail.xhr.status === 286) {
      signedOut = true;
      disconnect();
      return;
    }
    // Tell screen readers when the count changes (the badge itself is aria-hidden).
    var label = document.getElementById("bell-label");
    var live = document.getElementById("bell-live");
    if (label && live && label.textContent !== lastLabel) {
      lastLabel = label.textContent;
      live.textContent = lastLabel;
    }
  });

  // A refresh (the Dashboard following the bell, a header following the seats)
  // never takes focus away: if focus was inside what it replaces, it goes back to
  // the same element in the new version (by id, or the page's heading), else to
  // the new version of the replaced element.
  var focusedBeforeSwap = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    var active = document.activeElement;
    if (!(target && target.id && active && target.contains(active))) {
      focusedBeforeSwap = null;
    } else if (active.id) {
      focusedBeforeSwap = active.id;
    } else if (active.matches("main h1")) {
      focusedBeforeSwap = "";  // focusChanged() falls back to the page's heading
    } else {
      focusedBeforeSwap = target.id;
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    var lost = document.activeElement === document.body || !document.contains(document.activeElement);
    // An answer that replaced part of an open dialog (the invite form's summary): focus
    // stays in the dialog, on what it says, and Escape later returns to the opener.
    var fresh = target && target.id ? document.getElementById(target.id) : target;
    var inDialog = fresh && fresh.closest && fresh.closest("dialog[open]");
    if (inDialog && lost) {
      var spot = fresh.querySelector("[role=status], [role=alert], .form-error, [aria-invalid=true]") ||
        fresh.querySelector("textarea, input:not([type=hidden]), select, button");
      if (spot) {
        if (!spot.matches("a[href], button, input, select, textarea")) spot.setAttribute("tabindex", "-1");
        spot.focus();
      }
      focusedBeforeSwap = null;
      return;
    }
    if (focusedBeforeSwap !== null && lost) changedRow = focusedBeforeSwap;
    focusedBeforeSwap = null;
    var acted = event.detail.requestConfig && event.detail.requestConfig.verb !== "get";
    if (target && target.id && acted && (target.tagName === "TR" || target.hasAttribute("data-focus-after-swap"))) {
      changedRow = target.id;
    }
    if (changedRow !== null && !document.querySelector("dialog[open]")) focusChanged();
    // A confirmation fetched by htmx arrives as <dialog data-open>: show it.
    var dialog = target && target.querySelector && target.querySelector("dialog[data-open]");
    if (dialog) openDialog(dialog, event.detail.requestConfig && event.detail.requestConfig.elt);
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    // A successful form post from inside a confirmation dialog closes it (the invite
    // dialog stays open on its summary).
    var form = event.detail.elt;
    var dialog = form && form.closest && form.closest("#dialog-slot dialog:not([data-stays-open])");
    if (dialog && event.detail.successful) closeDialog(dialog);
  });
  // Passkeys (WebAuthn): a form marked data-passkey asks the server for the ceremony's
  // options, lets the browser talk to the person's device, then posts the resulting
  // credential (JSON, binary fields in base64url) in its hidden `credential` field.
  // Without JavaScript the form posts as it is and the server says a passkey needs it.
  function fromBase64url(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    var binary = atob(base64 + "===".slice((base64.length + 3) % 4));
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withIds(list) {
    return (list || []).map(function (item) {
      return Object.assign({}, item, { id: fromBase64url(item.id) });
    });
  }

  function credentialJson(credential) {
    var response = credential.response;
    var json = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: toBase64url(response.clientDataJSON) }
    };
    if (response.attestationObject) {
      json.response.attestationObject = toBase64url(response.attestationObject);
    } else {
      json.response.authenticatorData = toBase64url(response.authenticatorData);
      json.response.signature = toBase64url(response.signature);
      if (response.userHandle) json.response.userHandle = toBase64url(response.userHandle);
    }
    return JSON.stringify(json);
  }

  function passkeyCeremony(form) {
    var error = form.querySelector("[data-passkey-error]");
    var token = form.querySelector("input[name=csrf_token]");
    var show = function (message) {
      if (!error) return;
      error.textContent = message;
      error.hidden = false;
    };
    if (!window.PublicKeyCredential || !navigator.credentials) {
      show("This browser cannot use passkeys.");
      return;
    }
    fetch(form.getAttribute("data-passkey-options"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": token ? token.value : "", Accept: "application/json" }
    })
      .then(function (response) {
        if (response.status === 429) {
          throw new Error("too many attempts from here. Wait a few minutes and try again.");
        }
        if (!response.ok) {
          throw new Error("Roster could not start it (error " + response.status + "). Reload the page and try again.");
        }
        return response.json();
      })
      .then(function (started) {
        form.querySelector("input[name=ceremony]").value = started.ceremony;
        var publicKey = started.options.publicKey;
        publicKey.challenge = fromBase64url(publicKey.challenge);
        if (form.getAttribute("data-passkey") === "register") {
          publicKey.user.id = fromBase64url(publicKey.user.id);
          publicKey.excludeCredentials = withIds(publicKey.excludeCredentials);
          return navigator.credentials.create({ publicKey: publicKey });
        }
        publicKey.allowCredentials = withIds(publicKey.allowCredentials);
        return navigator.credentials.get({ publicKey: publicKey });
      })
      .then(function (credential) {
        form.querySelector("input[name=credential]").value = credentialJson(credential);
        form.submit();
      })
      .catch(function (problem) {
        show(
          problem && problem.name === "NotAllowedError"
            ? "No passkey was used: the request was cancelled or timed out."
            : "The passkey did not work: " + (problem && problem.message ? problem.message : problem)
        );
      });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-passkey")) return;
    if (form.querySelector("input[name=credential]").value) return;
    event.preventDefault();
    passkeyCeremony(form);
  });
})();
