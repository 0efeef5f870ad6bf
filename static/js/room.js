// The message boxes' keys, the draft, and edit forms opened inside a message (htmx
// loads them in place). Without JavaScript the boxes are plain textareas with a button.
(() => {
  const room = document.querySelector(".room");
  // Looked up each time: a refused message comes back in a new box (pushed by the server).
  const box = () => document.getElementById("message-input");
  if (!room || !box()) return;
  const edits = (form) => form?.closest(".message-change");
  const close = (form) => { form.remove(); box().focus(); };
  room.addEventListener("keydown", (event) => {
    const field = event.target;
    if (!field.matches("textarea[name=message]")) return;
    // Enter sends, Shift+Enter starts a new line; an input method confirming a word with
    // Enter is left alone.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      field.form.requestSubmit();
    } else if (event.key === "ArrowUp" && field === box() && field.value === "") {
      // Up in an empty box edits your own last message, as in other chat apps.
      const mine = room.querySelectorAll(
        `#messages > .message[data-author="${room.dataset.me}"]:not(.message--deleted)`);
      const edit = mine[mine.length - 1]?.querySelector(".message__action--edit");
      if (edit) { event.preventDefault(); edit.click(); }
    } else if (event.key === "Escape" && edits(field.form)) {
      event.preventDefault();
      close(field.form);
    } else if (event.key === "Escape" && field === box()) {
      // Escape in the box drops the reply being written (the text stays).
      document.getElementById("composer-reply")?.replaceChildren();
    }
  });
  // An opened edit form: the caret after the text, ready to change its end.
  room.addEventListener("htmx:afterSwap", (event) => {
    const field = event.target.querySelector?.(".message-change textarea");
    if (field) { field.focus(); field.setSelectionRange(field.value.length, field.value.length); }
  });
  // An edit or deletion went: its form goes with the redrawn message, and focus would be
  // lost with it; typing goes on in the message box.
  room.addEventListener("htmx:wsAfterSend", (event) => {
    if (edits(event.target)) box().focus();
  });
  // A new topic or description that was taken closes its form (the server answers the
  // sender with an empty reason); a refusal keeps it open with why.
  document.addEventListener("htmx:oobAfterSwap", (event) => {
    if (event.detail.target.id !== "about-error") return;
    if (!document.getElementById("about-error").textContent.trim()) {
      room.querySelector(".about-edit").open = false;
    }
  });
  // Cancel just closes the form (it is a link back to the room without JavaScript).
  room.addEventListener("click", (event) => {
    const cancel = event.target.closest("[data-cancel]");
    if (cancel) { event.preventDefault(); close(cancel.closest(".message-change")); }
  });
  // A reply's quote: the message it answers, when this page shows it, is brought into view
  // and lit up; else the link opens the room around it.
  room.addEventListener("click", (event) => {
    const quote = event.target.closest("a.quote");
    const original = quote && document.getElementById(quote.dataset.quote);
    if (!original || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    original.scrollIntoView({ block: "center" });
    original.classList.remove("message--found");
    void original.offsetWidth; // so the highlight starts again on a second click
    original.classList.add("message--found");
  });
  // Reply opened above the box: writing it starts at once.
  room.addEventListener("htmx:afterSettle", (event) => {
    if (event.target.id === "composer-reply") box().focus();
  });

  // The draft: what is typed stays in this tab, per room, across reloads until it is sent.
  // A page whose name ended in another tab sends nothing, so its draft stays for the rejoin.
  const draft = `parley.draft:${location.pathname}`;
  box().value ||= sessionStorage.getItem(draft) ?? "";
  room.addEventListener("input", (event) => {
    if (event.target !== box()) return;
    try {
      if (box().value) sessionStorage.setItem(draft, box().value);
      else sessionStorage.removeItem(draft);
    } catch { /* storage full or off: the box still holds it */ }
  });
  addEventListener("submit", (event) => {
    if (event.target === box().form && room.dataset.connection !== "ended") {
      sessionStorage.removeItem(draft);
    }
  }, true);
})();
