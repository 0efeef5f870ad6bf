// Times in the reader's own zone, drawn the same way on every page: "just now", "5 minutes
// ago", then "14:05" today and "10 Jan, 14:05" before; the full date on hover. Without
// JavaScript each shows the server's time with its zone named (templates/rooms/_time.html).
// In the page's language (<html lang>), written the way the reader's browser writes it when it
// speaks that language too (en-GB: "10 Jan, 15:31"); "just now" is the page's own words.
(() => {
  const page = document.documentElement.lang;
  const lang = navigator.languages.find((tag) => tag.split("-")[0] === page) ?? (page || undefined);
  const justNow = document.documentElement.dataset.justNow;
  const clock = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit" });
  const date = new Intl.DateTimeFormat(lang, { day: "numeric", month: "short" });
  const full = new Intl.DateTimeFormat(lang, { dateStyle: "full", timeStyle: "short" });
  const relative = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
  const label = (when, now) => {
    const minutes = Math.floor((now - when) / 6e4);
    if (minutes < 1) return justNow ?? relative.format(0, "second");
    if (minutes < 60) return relative.format(-minutes, "minute");
    const today = when.toDateString() === new Date(now).toDateString();
    return today ? clock.format(when) : `${date.format(when)}, ${clock.format(when)}`;
  };
  // Only what differs is touched: a screen reader in a live list should hear new messages,
  // not every clock tick.
  const draw = (times) => {
    const now = Date.now();
    for (const time of times) {
      const when = new Date(time.dateTime);
      const text = label(when, now);
      if (time.textContent === text) continue;
      time.setAttribute("aria-live", "off");
      time.textContent = text;
      time.title = full.format(when);
    }
  };
  const all = () => draw(document.querySelectorAll("time.time"));
  all();
  // Only the times that arrive (a pushed message, a lobby card) are drawn when they do.
  new MutationObserver((changes) => {
    for (const change of changes) {
      for (const node of change.addedNodes) {
        if (node.nodeType !== Node.ELEMENT_NODE) continue;
        draw(node.matches("time.time") ? [node] : node.querySelectorAll("time.time"));
      }
    }
  }).observe(document.body, { childList: true, subtree: true });
  setInterval(all, 60_000);
})();
