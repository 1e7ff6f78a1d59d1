// Behaviour shared by every page. No inline scripts: the CSP forbids them.
document.addEventListener("DOMContentLoaded", () => {
  // Forms that ask "are you sure?" carry data-confirm="message".
  document.body.addEventListener("submit", (event) => {
    const message = event.target.dataset && event.target.dataset.confirm;
    if (message && !window.confirm(message)) event.preventDefault();
  });

  // The browser applies autofocus at its next rendering step, after the page's key
  // handlers are live: a fast typist's first letter would land on the page (a shortcut)
  // instead of the field. Focus it now, as the browser would, unless someone moved on.
  const wanted = document.querySelector("[autofocus]");
  if (wanted && (document.activeElement === document.body || !document.activeElement)) {
    wanted.focus();
  }
});
