// Reading the room: days in the reader's zone (times: static/js/times.js), where unread
// messages start, and a way back down that never yanks someone reading older messages.
const list = document.getElementById("messages");
const scroller = list?.closest(".room__scroller");
if (scroller) {
  // Day labels in the page's language ("Today", "Yesterday", then the date), in the reader's
  // own way of writing it when the browser speaks that language (as static/js/times.js).
  const page = document.documentElement.lang;
  const lang = navigator.languages.find((tag) => tag.split("-")[0] === page) ?? (page || undefined);
  const date = new Intl.DateTimeFormat(lang, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
  const relative = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
  const midnight = (when) => new Date(when.getFullYear(), when.getMonth(), when.getDate());
  const isoDay = (day) => [day.getFullYear(), day.getMonth() + 1, day.getDate()]
    .map((n) => String(n).padStart(2, "0")).join("-");
  const dayLabel = (day) => {
    const ago = Math.round((midnight(new Date()) - day) / 864e5);
    const text = Math.abs(ago) < 2 ? relative.format(-ago, "day") : date.format(day);
    return text[0].toUpperCase() + text.slice(1);
  };
  const fromTemplate = (id) => document.getElementById(id).content.firstElementChild.cloneNode(true);
  const messages = () => list.querySelectorAll(":scope > .message");
  const newest = () => Math.max(0, ...[...messages()].map((m) => Number(m.dataset.seq)));
  // Column-reverse keeps the bottom pinned: a scrollTop near 0 means "at the newest".
  const atBottom = () => scroller.scrollTop > -8;
  const jump = document.getElementById("jump");
  const unread = fromTemplate("unread-template");
  let shown = newest();

  // Only what differs is touched: the list is a live region, and a screen reader
  // should hear new messages and new days, not every day's label again.
  const draw = () => {
    const kept = new Set();
    let previous = 0;
    for (const message of messages()) {
      const day = midnight(new Date(message.querySelector("time.message__time").dateTime));
      if (+day === previous) continue;
      previous = +day;
      let separator = message.previousElementSibling;
      if (!separator?.matches(".day") || separator.firstElementChild.dateTime !== isoDay(day)) {
        separator = fromTemplate("day-template");
        separator.firstElementChild.dateTime = isoDay(day);
        message.before(separator);
      }
      const label = dayLabel(day);
      if (separator.textContent !== label) separator.firstElementChild.textContent = label;
      kept.add(separator);
    }
    for (const separator of list.querySelectorAll(":scope > .day")) {
      if (!kept.has(separator)) separator.remove();
    }
  };
  // While the tab is hidden, its title counts the messages that came from others ("(3) Room ·
  // Parley") and its icon has a dot; back to the tab, one divider before the first of them.
  const room = list.closest(".room");
  const title = document.title;
  const icon = document.querySelector("link[rel=icon]");
  const plainIcon = icon?.href;
  let seenWhenHidden = 0;
  function markUnread() {
    const count = document.visibilityState !== "hidden" ? 0 : [...messages()].filter(
      (m) => Number(m.dataset.seq) > seenWhenHidden && m.dataset.author !== room.dataset.me).length;
    document.title = count ? `(${count}) ${title}` : title;
    if (icon) icon.href = count ? icon.dataset.unread : plainIcon;
  }

  // A message that mentions you can raise a browser notification, once you turn it on here.
  const notify = document.getElementById("notify-mentions");
  if (notify && "Notification" in window) {
    notify.closest("[hidden]")?.removeAttribute("hidden");
    notify.checked = localStorage.getItem("parley.notify") === "on"
      && Notification.permission === "granted";
    notify.addEventListener("change", async () => {
      if (notify.checked && (await Notification.requestPermission()) !== "granted") {
        notify.checked = false;
      }
      localStorage.setItem("parley.notify", notify.checked ? "on" : "off");
    });
  }
  function notifyOfMention(message) {
    if (!notify?.checked || document.visibilityState !== "hidden") return;
    if (message.dataset.author === room.dataset.me) return;
    if (!message.querySelector(`.mention[data-mention="${room.dataset.mentionMe}"]`)) return;
    const author = message.querySelector(".message__author").textContent;
    const where = document.getElementById("room-title").textContent;
    const text = message.querySelector(".message__body").textContent.slice(0, 200);
    const heading = room.dataset.notifyTitle.replace("{author}", author).replace("{room}", where);
    const heard = new Notification(heading, { body: text, tag: message.id });
    heard.onclick = () => { focus(); message.scrollIntoView({ block: "center" }); heard.close(); };
  }

  const observer = new MutationObserver(() => changed());
  const quietly = (change) => {
    observer.disconnect();
    change();
    observer.observe(list, { childList: true });
  };
  // How far this page was read, told to the server (the .read-signal form, over the socket)
  // while the page is in view at the newest messages: the room's count then clears in the
  // sidebar of your other pages and devices. The server marked the page read when drawn.
  const signal = document.querySelector(".read-signal");
  let told = newest();
  let telling = null;
  function tellRead() {
    if (!signal || telling || document.visibilityState === "hidden" || !atBottom()) return;
    telling = setTimeout(() => {
      telling = null;
      const seq = newest();
      if (seq <= told || document.visibilityState === "hidden") return;
      told = seq;
      signal.elements.read.value = String(seq);
      document.body.dispatchEvent(new Event("parley:read"));
    }, 300);
  }

  const changed = () => quietly(() => {
    draw();
    // Someone reading older messages is told about new ones instead of being moved.
    if (jump && newest() > shown && !atBottom()) jump.hidden = false;
    const arrived = [...messages()].filter((m) => Number(m.dataset.seq) > shown);
    shown = newest();
    markUnread();
    for (const message of arrived) notifyOfMention(message);
    if (arrived.length) tellRead();
  });
  changed();
  // Where the messages you had not read yet begin, from how far you read this room before
  // (stored on the server, for members on every device): a divider before the first of them.
  const readBefore = Number(room.dataset.read || 0);
  const firstUnread = readBefore && [...messages()].find(
    (m) => Number(m.dataset.seq) > readBefore && m.dataset.author !== room.dataset.me);
  if (firstUnread) {
    const day = firstUnread.previousElementSibling;
    quietly(() => (day?.matches(".day") ? day : firstUnread).before(unread));
  }
  setInterval(changed, 60_000);
  scroller.addEventListener("scroll", () => {
    if (!atBottom()) return;
    if (jump) jump.hidden = true;
    tellRead();
  }, { passive: true });
  const toNewest = () => { scroller.scrollTop = 0; if (jump) jump.hidden = true; };
  jump?.addEventListener("click", toNewest);
  // Sending your own message brings you down to where it appears.
  addEventListener("submit", (event) => { if (event.target.matches(".composer")) toNewest(); }, true);

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") seenWhenHidden = newest();
    markUnread();
    if (document.visibilityState === "hidden") return;
    tellRead();
    const first = [...messages()].find((m) => Number(m.dataset.seq) > seenWhenHidden);
    if (!first) return;
    const day = first.previousElementSibling;
    quietly(() => (day?.matches(".day") ? day : first).before(unread));
  });
}
