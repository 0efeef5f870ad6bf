// The search box's results, shown under it by htmx as you type (templates/rooms/_search_form.html).
// Escape closes them; a refusal (too many searches) is shown there too, though htmx leaves
// error answers out by default. Without JavaScript the form opens the results page.
(() => {
  const form = document.querySelector("form.search");
  const results = document.getElementById("search-results");
  if (!form || !results) return;
  form.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !results.childElementCount) return;
    event.preventDefault();
    htmx.trigger(form, "htmx:abort"); // an answer on its way would open them again
    results.replaceChildren();
  });
  form.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.xhr.status === 429) event.detail.shouldSwap = true;
  });
})();
