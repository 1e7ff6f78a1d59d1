// One-key answers for the referral follow-up prompt (#referral-follow-ups).
// L = linked, N = not yet, D = declined, for the card holding the focus or else the
// first card due. Ignored while typing in a text field (Alt+key works there through
// the buttons' accesskeys) and never bound to digits, which the intake page uses.
// This file is loaded by the ask page and by the fragment itself (htmx runs its
// <script src>), so it must be safe to load twice.
(function () {
  if (window.sspReferralKeys) return;
  window.sspReferralKeys = true;

  const ANSWERS = { l: "linked", n: "not-yet", d: "declined" };
  const TYPING = /^(text|search|email|url|tel|password|date|time|datetime-local|month|week)$/;

  function isTyping(el) {
    if (!el || el === document.body) return false;
    if (el.isContentEditable) return true;
    if (el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
    return el.tagName === "INPUT" && TYPING.test(el.type || "text");
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    const answer = ANSWERS[(event.key || "").toLowerCase()];
    if (!answer || isTyping(event.target)) return;
    const prompt = document.querySelector("[data-referral-prompt]");
    if (!prompt) return;
    const focused = document.activeElement && document.activeElement.closest
      ? document.activeElement.closest("[data-referral-card]")
      : null;
    const card = focused && prompt.contains(focused)
      ? focused
      : prompt.querySelector(".referral-card.due[data-referral-card]");
    if (!card) return;
    const button = card.querySelector(`button[data-answer="${answer}"]`);
    if (!button || button.disabled) return;
    event.preventDefault();
    button.click();
  });
})();
