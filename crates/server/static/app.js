// Small enhancements only: every page works without this file.
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
});

// A print button where a page is meant to be printed (the browser's own print works as well).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
