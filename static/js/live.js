// Live lists (who is typing, the lobby's rooms): a pushed item replaces its earlier
// copy. htmx's out-of-band swaps either replace an item or add one, not whichever fits.
document.addEventListener("htmx:oobBeforeSwap", (event) => {
  if (!event.detail.target.hasAttribute("data-live-list")) return;
  for (const item of event.detail.fragment.children) document.getElementById(item.id)?.remove();
});
