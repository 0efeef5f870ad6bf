// The little a room page needs that htmx attributes cannot say.
const room = document.querySelector("[ws-connect]");
if (room) {
  // The connection cue (CSS shows the matching text).
  room.addEventListener("htmx:wsOpen", () => { room.dataset.connection = "open"; });
  room.addEventListener("htmx:wsClose", () => { room.dataset.connection = "closed"; });
  // Sent for real: empty the box for the next message; it keeps focus.
  room.addEventListener("htmx:wsAfterSend", (event) => {
    if (event.target.matches(".composer")) event.target.reset();
    // An edit or deletion went: its form goes with the redrawn message, typing goes on below.
    else if (event.target.matches(".message-change")) document.getElementById("message-input").focus();
  });
  // No socket: let the form post the plain way instead of waiting in a hidden queue.
  document.addEventListener("submit", (event) => {
    if (room.dataset.connection !== "open") event.stopPropagation();
  }, true);
  // A catch-up reply and a live push can carry the same message: each message
  // lands once (a newer copy replaces the old), in the room's order (data-seq).
  document.addEventListener("htmx:oobBeforeSwap", (event) => {
    const list = event.detail.target;
    // The newest page drawn fresh (the page was too far behind) replaces the list whole.
    if (list.id !== "messages" || event.detail.fragment.hasAttribute?.("data-newest")) return;
    event.detail.shouldSwap = false;
    for (const message of [...event.detail.fragment.children]) {
      const shown = document.getElementById(message.id);
      // An edit or deletion of a message older than the history on the page: not news here.
      if (!shown && message.hasAttribute("data-changed")
          && Number(message.dataset.seq) < Number(list.querySelector(".message")?.dataset.seq)) continue;
      shown?.remove();
      let before = list.lastElementChild;
      // Day separators and the unread divider carry no data-seq: step over them.
      while (before && !(Number(before.dataset.seq) < Number(message.dataset.seq))) {
        before = before.previousElementSibling;
      }
      if (before) before.after(message); else list.prepend(message);
      htmx.process(message); // its edit and delete buttons open their forms in place
    }
  });
  // Cancel on an edit or delete form opened inside a message: just close it.
  document.addEventListener("click", (event) => {
    const cancel = event.target.closest("[data-cancel]");
    if (cancel && room.contains(cancel)) { event.preventDefault(); cancel.closest("form").remove(); }
  });
}
