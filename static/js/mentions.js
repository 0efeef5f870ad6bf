// Mentions: "@" and the start of a name in the message box offers the people in the room,
// in a list the server draws for what was typed (templates/rooms/_mention_options.html,
// fetched by htmx). Up and Down move through it, Enter or Tab puts the name in the box,
// Escape closes it. Runs before static/js/room.js's keys, which it keeps from Enter and Up.
(() => {
  const room = document.querySelector(".room");
  const list = document.getElementById("mention-list");
  if (!room || !list) return;
  const box = () => document.getElementById("message-input");
  // The start of a name typed after "@" just before the caret, or null.
  const typed = () => {
    const field = box();
    const before = field.value.slice(0, field.selectionStart);
    return before.match(/(?<![\w@])@([\w.\-]*)$/u)?.[1] ?? null;
  };
  const options = () => [...list.querySelectorAll("[role=option]")];
  const choose = (option) => {
    for (const each of options()) each.setAttribute("aria-selected", String(each === option));
    box().setAttribute("aria-activedescendant", option.id);
    option.scrollIntoView({ block: "nearest" });
  };
  const shut = () => {
    list.hidden = true;
    list.replaceChildren();
    box().setAttribute("aria-expanded", "false");
    box().removeAttribute("aria-activedescendant");
  };
  const put = (name) => {
    const field = box();
    const caret = field.selectionStart;
    field.setRangeText(`${name} `, caret - typed().length, caret, "end");
    shut();
    field.dispatchEvent(new Event("input", { bubbles: true })); // the draft keeps it
  };

  room.addEventListener("input", (event) => {
    if (event.target !== box()) return;
    const start = typed();
    if (start === null) return shut();
    // hx-sync on the list: a newer question replaces one still on its way.
    htmx.ajax("GET", `${list.dataset.source}?q=${encodeURIComponent(start)}`,
      { source: list, target: list, swap: "innerHTML" });
  });
  list.addEventListener("htmx:afterSwap", () => {
    if (!options().length || typed() === null) return shut();
    list.hidden = false;
    box().setAttribute("aria-expanded", "true");
    choose(options()[0]);
  });
  room.addEventListener("keydown", (event) => {
    if (event.target !== box() || list.hidden || event.isComposing) return;
    const all = options();
    const at = all.indexOf(list.querySelector("[aria-selected=true]"));
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      choose(all[(at + (event.key === "ArrowDown" ? 1 : -1) + all.length) % all.length]);
    } else if ((event.key === "Enter" || event.key === "Tab") && !event.shiftKey) {
      put(all[at].dataset.name);
    } else if (event.key === "Escape") {
      shut();
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
  }, true);
  list.addEventListener("mousedown", (event) => event.preventDefault()); // focus stays in the box
  list.addEventListener("click", (event) => {
    const option = event.target.closest("[role=option]");
    if (option) put(option.dataset.name);
  });
  room.addEventListener("focusout", (event) => { if (event.target === box()) shut(); });
})();
