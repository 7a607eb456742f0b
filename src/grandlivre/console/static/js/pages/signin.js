// Sign in: check the key against the API, learn its role, keep both in sessionStorage.
import { Problem, api, boot, link, session, showProblem, t } from "../core.js";

/** The role of a key, as the API tells it (GET /api/v1/me, any valid key). */
async function roleOf(headers) {
  const me = await api("/api/v1/me", { headers, auth: false });
  return me.role;
}

boot(async () => {
  const form = document.getElementById("signin");
  const keyInput = document.getElementById("key");
  const ledgerInput = document.getElementById("ledger");
  const error = document.getElementById("key-error");
  if (session.key) ledgerInput.value = session.ledger;
  keyInput.focus();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    keyInput.removeAttribute("aria-invalid");
    const key = keyInput.value.trim();
    const ledger = ledgerInput.value.trim() || "main";
    if (!key) {
      error.textContent = t("signin.empty");
      keyInput.setAttribute("aria-invalid", "true");
      return;
    }
    const headers = { Authorization: `Bearer ${key}` };
    try {
      const role = await roleOf(headers);
      await api(`/api/v1/ledgers/${encodeURIComponent(ledger)}`, { headers, auth: false });
      session.start(key, role, ledger);
      location.assign(link("/"));
    } catch (problem) {
      session.end();
      if (problem instanceof Problem && problem.status === 401) {
        error.textContent = t("signin.refused");
        keyInput.setAttribute("aria-invalid", "true");
        keyInput.focus();
      } else {
        showProblem(problem, form);
      }
    }
  });
}, { needsKey: false });
