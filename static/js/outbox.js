// "Not sent yet": nothing typed is lost, and a send never leaves the page.
// Every message from the box is kept in this tab (sessionStorage, per room) with the
// key it was written with, until the server answers with that key: acknowledged, it
// goes from the list; refused, it stays with the reason. A message that cannot go now
// (no connection) waits and goes by itself when the socket opens again, with its same
// key, so the server never stores it twice. The list's markup and words are in
// templates/rooms/_unsent.html. Without JavaScript the form posts the plain way.
(() => {
  const room = document.querySelector("[ws-connect]");
  const composer = room?.querySelector(".composer");
  const section = document.getElementById("unsent");
  if (!composer || !section) return;
  const stored = `parley.unsent:${room.getAttribute("ws-connect")}`;
  const offline = document.getElementById("unsent-offline").content.textContent.trim();
  let socket = null; // htmx's socket while it is open
  // Each: {key, text, reply_to, state: "sending" | "waiting" | "refused", reason}.
  let items = [];
  try { items = JSON.parse(sessionStorage.getItem(stored)) || []; } catch { items = []; }
  // Sent before a reload but never answered: it goes again once the socket opens.
  for (const item of items) if (item.state === "sending") wait(item);
  // A key of our own from the start: the one in the form may be a used one the browser
  // restored on going back.
  composer.elements.key.value = newKey();

  function wait(item) { item.state = "waiting"; item.reason = offline; }

  function newKey() {
    const bytes = crypto.getRandomValues(new Uint8Array(16)); // works on plain http too
    return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  }

  function send(item) {
    if (!socket) return wait(item);
    item.state = "sending";
    item.reason = "";
    socket.send(JSON.stringify({ message: item.text, key: item.key, reply_to: item.reply_to }));
  }

  // Keep the list in the tab and draw it; a message on its way (answered in a moment)
  // is not shown, so a normal send never flickers through the list.
  function save() {
    try {
      if (items.length) sessionStorage.setItem(stored, JSON.stringify(items));
      else sessionStorage.removeItem(stored);
    } catch { /* storage full or off: the list on the page still holds them */ }
    const template = document.getElementById("unsent-item").content.firstElementChild;
    const shown = items.filter((item) => item.state !== "sending");
    section.querySelector(".unsent__list").replaceChildren(...shown.map((item) => {
      const row = template.cloneNode(true);
      row.dataset.key = item.key;
      row.dataset.state = item.state;
      row.querySelector(".unsent__text").textContent = item.text;
      row.querySelector(".unsent__reason").textContent = item.reason;
      return row;
    }));
    section.hidden = shown.length === 0;
  }

  // The box: this sends (not htmx's ws-send, and never the plain post), with the key.
  document.addEventListener("submit", (event) => {
    if (event.target !== composer) return;
    event.preventDefault();
    event.stopPropagation();
    const box = composer.elements.message;
    const key = composer.elements.key;
    const reply = composer.elements.reply_to?.value;
    const item = { key: key.value || newKey(), text: box.value, reply_to: reply, state: "sending", reason: "" };
    key.value = newKey(); // the next message is another one
    box.value = "";
    document.getElementById("composer-reply")?.replaceChildren(); // it goes with this one
    items.push(item);
    send(item);
    save();
  }, true);

  // The server's answer to a message names its key: empty means stored, else why not.
  document.addEventListener("htmx:oobBeforeSwap", (event) => {
    if (event.detail.target.id !== "composer-error") return;
    const answer = event.detail.fragment.firstElementChild;
    const item = items.find((each) => each.key === answer?.dataset.key);
    if (!item) return;
    const reason = answer.textContent.trim();
    // Refused blank text has nothing to keep: the reason under the box says it all.
    if (reason && item.text.trim()) { item.state = "refused"; item.reason = reason; }
    else items.splice(items.indexOf(item), 1);
    save();
  });

  room.addEventListener("htmx:wsOpen", (event) => {
    socket = event.detail.socketWrapper;
    for (const item of items) if (item.state !== "refused") send(item);
    save();
  });
  room.addEventListener("htmx:wsClose", () => {
    socket = null;
    // No answer came: it may or may not be stored; the key makes sending again safe.
    for (const item of items) if (item.state === "sending") wait(item);
    save();
  });

  section.addEventListener("click", (event) => {
    const button = event.target.closest("[data-unsent]");
    const key = button?.closest(".unsent__item").dataset.key;
    const item = items.find((each) => each.key === key);
    if (!item) return;
    if (button.dataset.unsent === "discard") items.splice(items.indexOf(item), 1);
    else send(item);
    save();
    composer.elements.message.focus();
  });

  save();
})();
