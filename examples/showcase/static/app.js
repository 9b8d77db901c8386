// Loaded from /static with the CSP nonce; marks the page so a test can see scripts ran.
document.documentElement.dataset.app = "ready";
