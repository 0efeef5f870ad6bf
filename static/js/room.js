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
  // Cancel on an edit or delete form opened inside a message: just close it.
  document.addEventListener("click", (event) => {
    const cancel = event.target.closest("[data-cancel]");
    if (cancel && room.contains(cancel)) { event.preventDefault(); cancel.closest("form").remove(); }
  });
}
