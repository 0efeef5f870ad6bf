// Edit and delete forms opened inside a message (htmx loads them in place).
const room = document.querySelector("[ws-connect]");
if (room) {
  // An edit or deletion went: its form goes with the redrawn message, and focus would be
  // lost with it; typing goes on in the message box.
  room.addEventListener("htmx:wsAfterSend", (event) => {
    if (event.target.matches(".message-change")) document.getElementById("message-input").focus();
  });
  // Cancel just closes the form (it is a link back to the room without JavaScript).
  document.addEventListener("click", (event) => {
    const cancel = event.target.closest("[data-cancel]");
    if (cancel && room.contains(cancel)) { event.preventDefault(); cancel.closest("form").remove(); }
  });
}
