// Pictures and files on a message: only what the browser alone knows. Text goes over the
// socket (static/js/outbox.js), files never do: while files are chosen the box posts over
// HTTP to the room's upload address (data-upload), and the message reaches every page,
// this one too, over the socket once it is stored. Without JavaScript the form posts the
// plain multipart way.
(() => {
  const composer = document.querySelector(".room .composer[data-upload]");
  if (!composer?.elements.files) return;
  // Looked up each time: the answer to a message with files draws them anew.
  const input = () => composer.elements.files;
  const chosen = () => document.getElementById("composer-chosen");
  const offline = document.getElementById("unsent-offline").content.textContent.trim();
  // Looked up each time: a refused message comes back in a new box (pushed by the server).
  const box = () => document.getElementById("message-input");
  // The Send button skips the browser's own check so that, without JavaScript, a picture
  // may go alone; here the check is back, and follows what is chosen (show()).
  composer.querySelector("[formnovalidate]")?.toggleAttribute("formnovalidate", false);

  // The names of the files chosen, under the box; a picture alone is a message, so the
  // box may be empty while there are any.
  function show() {
    const files = Array.from(input().files);
    chosen().replaceChildren(...files.map((file) => {
      const item = document.createElement("li");
      item.textContent = file.name; // a name is text, never markup
      return item;
    }));
    chosen().hidden = files.length === 0;
    box().required = files.length === 0;
  }

  // Pasted or dropped files join those chosen: a file input's list can only be replaced
  // whole, so a new one is made of both.
  function add(files) {
    const all = new DataTransfer();
    for (const file of [...input().files, ...files]) all.items.add(file);
    input().files = all.files;
    show();
  }

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
  // chosen, htmx posts the form over HTTP and the socket never sees the message. The answer
  // is the error line; once stored it comes with the box made ready for the next message
  // (rooms/_composer_sent.html), and a refusal (4xx) leaves the text and files to send again.
  addEventListener("submit", (event) => {
    if (event.target !== composer || !input().files.length) return;
    event.preventDefault();
    event.stopPropagation();
    htmx.ajax("POST", composer.dataset.upload,
      { source: composer, target: "#composer-error", swap: "outerHTML" });
  }, true);
  composer.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.target.id === "composer-error") event.detail.shouldSwap = true;
  });
  // No answer at all: it may have been stored; sending again keeps its key.
  composer.addEventListener("htmx:sendError", () => {
    document.getElementById("composer-error").textContent = offline;
  });
  composer.addEventListener("htmx:afterSettle", (event) => {
    if (event.target === composer) box().focus(); // the new, empty box
  });
  composer.addEventListener("change", (event) => { if (event.target === input()) show(); });

  show();
})();
