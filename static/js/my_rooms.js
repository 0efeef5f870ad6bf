// My rooms: the count of each room's unread messages in words, for screen readers. CSS counts
// a room's marks for the eye (static/css/parley.css), but browsers don't read CSS counters
// aloud; the server draws the words with the page, and new marks (or a room read elsewhere)
// arrive over the socket, so they are counted again here: the visible marks, not your own.
// The words are the page's (data-unread on the list), in its language.
const sidebar = document.querySelector(".my-rooms__list");
if (sidebar) {
  const words = sidebar.dataset.unread;
  const recount = () => {
    for (const room of sidebar.querySelectorAll(".my-room")) {
      const heard = room.querySelector(".my-room__heard");
      if (room.querySelector("[aria-current=page]")) continue;
      const count = [...room.querySelectorAll(".unread-marks > i")]
        .filter((mark) => getComputedStyle(mark).display !== "none").length;
      const said = count === 0 ? "" : words.replace("{count}", count < 100 ? count : "99+");
      if (heard.textContent !== said) heard.textContent = said;
    }
  };
  new MutationObserver(recount).observe(sidebar, { childList: true, subtree: true });
  recount();
}
