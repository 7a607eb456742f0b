// Sign in: check the key against the API, learn its role, keep both in sessionStorage.
import { Problem, api, boot, link, session, showProblem, t } from "../core.js";

/** The role of a key, read from what the API lets it do (no route says it outright).
 *
 * Listing keys is for admins only; validating drafts is for accountants and up, and the role
 * is checked before the body, so an empty body gets 422 from an accountant's key and 403 from
 * a viewer's, and changes nothing either way. */
async function roleOf(ledger) {
  try {
    await api("/api/v1/keys?limit=1");
    return "admin";
  } catch (error) {
    if (!(error instanceof Problem) || error.status !== 403) throw error;
  }
  try {
    await api(`/api/v1/ledgers/${encodeURIComponent(ledger)}/entries/validate`,
      { method: "POST", body: {} });
    return "accountant";
  } catch (error) {
    if (error instanceof Problem && error.status === 403) return "viewer";
    if (error instanceof Problem && error.status === 422) return "accountant";
    throw error;
  }
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
      await api(`/api/v1/ledgers/${encodeURIComponent(ledger)}`, { headers, auth: false });
      session.start(key, "viewer", ledger);
      session.start(key, await roleOf(ledger), ledger);
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
