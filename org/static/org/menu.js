// The main menu: one line when it fits, else a Menu button (a phone, a narrow tablet, a
// long menu). Loaded right after the header, not deferred, so the menu is folded before
// the page is first drawn. No inline script anywhere: the CSP forbids it.
// The toggles are real <button>s with aria-expanded (the W3C "disclosure navigation"
// pattern): Enter and Space open them, Escape closes them and gives focus back.
(() => {
  "use strict";

  const bar = document.getElementById("topbar");
  if (!bar) return;
  const menuToggle = bar.querySelector(".menu-toggle");
  const moreToggle = bar.querySelector(".nav-more-toggle");
  const moreGroup = bar.querySelector(".nav-group");

  const setOpen = (toggle, open) => toggle && toggle.setAttribute("aria-expanded", String(open));
  const isOpen = (toggle) => toggle && toggle.getAttribute("aria-expanded") === "true";

  // Without this script the More entries stay in the line and the line wraps.
  bar.classList.add("menu-ready");
  setOpen(moreToggle, false);

  // Lay the menu out on one line and see whether anything sticks out of the bar.
  function fit() {
    bar.classList.remove("menu-collapsed");
    bar.classList.add("menu-measuring");
    const tooWide = bar.scrollWidth > bar.clientWidth;
    bar.classList.remove("menu-measuring");
    bar.classList.toggle("menu-collapsed", tooWide);
    if (!tooWide) setOpen(menuToggle, false);
  }
  fit();
  // Phones resize the window as their address bar hides: only a new width matters.
  let pending = false;
  let width = window.innerWidth;
  window.addEventListener("resize", () => {
    if (pending || window.innerWidth === width) return;
    width = window.innerWidth;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      fit();
    });
  });

  for (const toggle of [menuToggle, moreToggle]) {
    if (toggle) toggle.addEventListener("click", () => setOpen(toggle, !isOpen(toggle)));
  }
  // A click elsewhere closes what is open (on a phone the More entries are always shown).
  document.addEventListener("click", (event) => {
    if (moreGroup && !moreGroup.contains(event.target)) setOpen(moreToggle, false);
    if (!bar.contains(event.target)) setOpen(menuToggle, false);
  });
  // The More list closes when focus moves on past it.
  if (moreGroup) {
    moreGroup.addEventListener("focusout", (event) => {
      if (event.relatedTarget && !moreGroup.contains(event.relatedTarget)) {
        setOpen(moreToggle, false);
      }
    });
  }
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const open = [moreToggle, menuToggle].find(
      (toggle) => isOpen(toggle) && toggle.offsetParent !== null,
    );
    if (!open) return;
    setOpen(open, false);
    open.focus();
  });
})();
