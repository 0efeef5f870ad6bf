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
  const dayLabel = (day) => {
    const ago = Math.round((midnight(new Date()) - day) / 864e5);
    const text = Math.abs(ago) < 2 ? relative.format(-ago, "day") : date.format(day);
    return text[0].toUpperCase() + text.slice(1);
  };
  const isoDay = (day) => [day.getFullYear(), day.getMonth() + 1, day.getDate()].map((n) => String(n).padStart(2, "0")).join("-");
  const template = (id) => document.getElementById(id).content.firstElementChild;
  const messages = () => list.querySelectorAll(":scope > .message");
  const newest = () => Math.max(0, ...[...messages()].map((m) => Number(m.dataset.seq)));
  // Column-reverse keeps the bottom pinned: a scrollTop near 0 means "at the newest".
  const atBottom = () => scroller.scrollTop > -8;
  const jump = document.getElementById("jump");
  let shown = newest();

  // Times and day separators, drawn again whenever the list changes and every minute.
  const draw = () => {
    const now = Date.now();
    let previous = 0;
    for (const day of list.querySelectorAll(":scope > .day")) day.remove();
    for (const message of messages()) {
      const time = message.querySelector("time.message__time");
      const when = new Date(time.dateTime);
      const minutes = Math.floor((now - when) / 6e4);
      time.textContent = minutes < 1 ? "just now" : minutes < 60 ? relative.format(-minutes, "minute") : clock.format(when);
      time.title = full.format(when);
      const day = midnight(when);
      if (+day !== previous) {
        const separator = template("day-template").cloneNode(true);
        separator.firstElementChild.dateTime = isoDay(day);
        separator.firstElementChild.textContent = dayLabel(day);
        message.before(separator);
      }
      previous = +day;
    }
  };
  const changed = () => {
    observer.disconnect();
    draw();
    // Someone reading older messages is told about new ones instead of being moved.
    if (newest() > shown && !atBottom() && jump) jump.hidden = false;
    shown = newest();
    observer.observe(list, { childList: true });
  };
  const observer = new MutationObserver(changed);
  changed();
  setInterval(changed, 60_000);
  scroller.addEventListener("scroll", () => { if (atBottom() && jump) jump.hidden = true; }, { passive: true });
  jump?.addEventListener("click", () => { scroller.scrollTop = 0; jump.hidden = true; });

  // Back to a hidden tab: one divider before the first message that came meanwhile.
  let seenWhenHidden = 0;
  const unread = template("unread-template").cloneNode(true);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") { seenWhenHidden = newest(); return; }
    const first = [...messages()].find((m) => Number(m.dataset.seq) > seenWhenHidden);
    if (first) { observer.disconnect(); first.before(unread); observer.observe(list, { childList: true }); }
  });
}
