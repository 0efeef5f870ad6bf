// The little a room page needs that htmx attributes cannot say.
const room = document.querySelector("[ws-connect]");
if (room) {
  // The connection cue (CSS shows the matching text).
  room.addEventListener("htmx:wsOpen", () => { room.dataset.connection = "open"; });
  room.addEventListener("htmx:wsClose", () => { room.dataset.connection = "closed"; });
  // Sent for real: empty the box for the next message; it keeps focus.
  room.addEventListener("htmx:wsAfterSend", (event) => event.target.reset?.());
  // No socket: let the form post the plain way instead of waiting in a hidden queue.
  document.addEventListener("submit", (event) => {
    if (room.dataset.connection !== "open") event.stopPropagation();
  }, true);
}
