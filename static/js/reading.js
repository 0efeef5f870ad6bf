// Reading the room: times and days in the reader's zone, where unread messages start,
// and a way back down that never yanks someone reading older messages.
const list = document.getElementById("messages");
const scroller = list?.closest(".room__scroller");
if (scroller) {
  const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
  const full = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });
  const date = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
  const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  const midnight = (when) => new Date(when.getFullYear(), when.getMonth(), when.getDate());
  const isoDay = (day) => [day.getFullYear(), day.getMonth() + 1, day.getDate()]
    .map((n) => String(n).padStart(2, "0")).join("-");
  const dayLabel = (day) => {
    const ago = Math.round((midnight(new Date()) - day) / 864e5);
    const text = Math.abs(ago) < 2 ? relative.format(-ago, "day") : date.format(day);
    return text[0].toUpperCase() + text.slice(1);
  };
  const timeLabel = (when, now) => {
    const minutes = Math.floor((now - when) / 6e4);
    if (minutes < 1) return "just now";
    return minutes < 60 ? relative.format(-minutes, "minute") : clock.format(when);
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
  // should hear new messages and new days, not every clock tick.
  const draw = () => {
    const now = Date.now();
    const kept = new Set();
    let previous = 0;
    for (const message of messages()) {
      const time = message.querySelector("time.message__time");
      const when = new Date(time.dateTime);
      const text = timeLabel(when, now);
      if (time.textContent !== text) {
        time.setAttribute("aria-live", "off");
        time.textContent = text;
        time.title = full.format(when);
      }
      const day = midnight(when);
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
  const observer = new MutationObserver(() => changed());
  const quietly = (change) => {
    observer.disconnect();
    change();
    observer.observe(list, { childList: true });
  };
  const changed = () => quietly(() => {
    draw();
    // Someone reading older messages is told about new ones instead of being moved.
    if (jump && newest() > shown && !atBottom()) jump.hidden = false;
    shown = newest();
  });
  changed();
  setInterval(changed, 60_000);
  scroller.addEventListener("scroll", () => { if (jump && atBottom()) jump.hidden = true; }, { passive: true });
  const toNewest = () => { scroller.scrollTop = 0; if (jump) jump.hidden = true; };
  jump?.addEventListener("click", toNewest);
  // Sending your own message brings you down to where it appears.
  addEventListener("submit", (event) => { if (event.target.matches(".composer")) toNewest(); }, true);

  // Back to a hidden tab: one divider before the first message that came meanwhile.
  let seenWhenHidden = 0;
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") { seenWhenHidden = newest(); return; }
    const first = [...messages()].find((m) => Number(m.dataset.seq) > seenWhenHidden);
    if (!first) return;
    const day = first.previousElementSibling;
    quietly(() => (day?.matches(".day") ? day : first).before(unread));
  });
}
