// Pictures and files on a message: only what the browser alone knows. Text goes over the
// socket (static/js/outbox.js), files never do: while files are chosen the box posts over
// HTTP to the room's upload address (data-upload), and the message reaches every page,
// this one too, over the socket once it is stored. Without JavaScript the form posts the
// plain multipart way.
(() => {
  const composer = document.querySelector(".room .composer[data-upload]");
  const input = composer?.elements.files;
  const chosen = document.getElementById("composer-chosen");
  if (!input || !chosen) return;
  // Looked up each time: a refused message comes back in a new box (pushed by the server).
  const box = () => document.getElementById("message-input");
  // The Send button skips the browser's own check so that, without JavaScript, a picture
  // may go alone; here the check is back, and follows what is chosen (show()).
  composer.querySelector("[formnovalidate]")?.toggleAttribute("formnovalidate", false);

  function newKey() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  }

  // The names of the files chosen, under the box; a picture alone is a message, so the
  // box may be empty while there are any.
  function show() {
    const files = Array.from(input.files);
    chosen.replaceChildren(...files.map((file) => {
      const item = document.createElement("li");
      item.textContent = file.name; // a name is text, never markup
      return item;
    }));
    chosen.hidden = files.length === 0;
    box().required = files.length === 0;
  }

  // Pasted or dropped files join those chosen: a file input's list can only be replaced
  // whole, so a new one is made of both.
  function add(files) {
    const all = new DataTransfer();
    for (const file of [...input.files, ...files]) all.items.add(file);
    input.files = all.files;
    show();
  }

  input.addEventListener("change", show);
  composer.addEventListener("paste", (event) => {
    const data = event.clipboardData;
    if (!data?.files.length) return;
    add(data.files);
    // A screenshot has no text to paste; copied text that also has a picture keeps its text.
    if (!data.types.includes("text/plain")) event.preventDefault();
  });
  // Without this the browser opens a dropped file in place of the room.
  composer.addEventListener("dragover", (event) => {
    if (event.dataTransfer?.types.includes("Files")) event.preventDefault();
  });
  composer.addEventListener("drop", (event) => {
    if (!event.dataTransfer?.files.length) return;
    event.preventDefault();
    add(event.dataTransfer.files);
    box().focus();
  });

  // Listening on window, capturing, comes before outbox.js (on document): with files
  // chosen this sends, and the socket never sees the message.
  addEventListener("submit", async (event) => {
    if (event.target !== composer || !input.files.length) return;
    event.preventDefault();
    event.stopPropagation();
    if (composer.getAttribute("aria-busy") === "true") return; // one upload at a time
    composer.setAttribute("aria-busy", "true");
    const error = document.getElementById("composer-error");
    let reason;
    try {
      const response = await fetch(composer.dataset.upload, {
        method: "POST", body: new FormData(composer), credentials: "same-origin",
      });
      // The answer is the error line (rooms/_composer_error.html): empty when stored.
      const answer = new DOMParser().parseFromString(await response.text(), "text/html");
      const text = answer.getElementById("composer-error")?.textContent.trim();
      reason = response.ok ? "" : text || `Not sent (the server answered ${response.status}).`;
    } catch {
      // It may have been stored: sending again keeps its key, so it is never stored twice.
      reason = "Not sent: the connection failed. Send it again in a moment.";
    } finally {
      composer.removeAttribute("aria-busy");
    }
    error.textContent = reason;
    // Refused: the text and the files stay, to change and send again.
    if (reason) return;
    box().value = "";
    input.value = "";
    document.getElementById("composer-reply")?.replaceChildren(); // it went with this one
    composer.elements.key.value = newKey(); // the next message is another one
    show();
    box().focus();
  }, true);

  show();
})();
