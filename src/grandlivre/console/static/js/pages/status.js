// The operator's status page: storage mode and since when, mirror lag, replay queue and
// conflicts (retry or discard, for admins), request and error rates, rate limiter, version.
// Reads the unauthenticated probes (healthz, metrics), so it works before signing in too.
import { Problem, api, boot, el, fill, instant, session, showProblem, t } from "../core.js";

const REFRESH_SECONDS = 3;
const WINDOW_POINTS = 260; // the service's ten minutes (a point per 10 s), then ten at one per 3 s

boot(async () => {
  const facts = document.getElementById("facts");
  const refreshed = document.getElementById("refreshed");
  const series = [[], [], [], []];
  let last = null;
  let plot = null;
  let version = "";

  try {
    const text = await (await api("/metrics", { accept: "text/plain", raw: true, auth: false })).text();
    const match = /grandlivre_build_info\{[^}]*version="([^"]+)"/.exec(text);
    version = match ? match[1] : "";
  } catch { /* shown as unknown */ }

  const clock = (seconds) => new Date(seconds * 1000).toLocaleTimeString(document.documentElement.lang);

  function chart(box) {
    box.dataset.points = String(series[0].length);
    if (!window.uPlot) return;
    if (!plot) {
      fill(box);
      plot = new window.uPlot({
        width: Math.min(box.clientWidth || 800, 900), height: 200,
        scales: { x: { time: true } },
        axes: [{ stroke: "#1f2933", values: (u, splits) => splits.map(clock) }, { stroke: "#1f2933" }],
        series: [{ label: t("status.time"), value: (u, v) => (v == null ? "" : clock(v)) }, { label: t("status.requests"), stroke: "#0b5cad", width: 2 },
          { label: t("status.errors"), stroke: "#b42318", width: 2 },
          { label: t("status.client_errors"), stroke: "#8a5a00", width: 2, dash: [6, 4] }],
      }, series, box);
    } else {
      plot.setData(series);
    }
  }

  /** The minutes before the page opened: the rates between the service's own samples. */
  function seed(history) {
    for (let k = 1; k < history.length; k += 1) {
      const [a, b] = [history[k - 1], history[k]];
      const seconds = Math.max((Date.parse(b.at) - Date.parse(a.at)) / 1000, 0.001);
      series[0].push(Date.parse(b.at) / 1000);
      series[1].push((b.requests_total - a.requests_total) / seconds);
      series[2].push((b.requests_errors - a.requests_errors) / seconds);
      series[3].push((b.requests_client_errors - a.requests_client_errors) / seconds);
    }
  }

  async function conflicts() {
    const note = document.getElementById("conflicts-note");
    const table = document.getElementById("conflicts");
    if (!session.key || !session.may("admin")) {
      note.textContent = t("status.conflicts_admin");
      table.hidden = true;
      return;
    }
    const journal = await api("/api/v1/ops/replay");
    const rows = journal.items.filter((item) => item.status === "conflict");
    note.textContent = rows.length ? "" : t("status.no_conflicts");
    table.hidden = rows.length === 0;
    const body = table.querySelector("tbody");
    // Keep a reason being typed: rebuild only when the set of conflicts changed.
    const ids = rows.map((r) => r.id).join(",");
    if (body.dataset.ids === ids) return;
    body.dataset.ids = ids;
    fill(body, rows.map((item) => {
      const reason = el("input", { id: `reason-${item.id}`, required: true, maxlength: 500 });
      const decide = (action) => async () => {
        if (!reason.value.trim()) { reason.focus(); reason.setAttribute("aria-invalid", "true"); return; }
        try {
          await api(`/api/v1/ops/replay/${item.id}/${action}`, { method: "POST", body: { reason: reason.value.trim() } });
          body.dataset.ids = "";
          await refresh();
        } catch (error) { showProblem(error); }
      };
      return el("tr", {}, el("td", {}, String(item.id)), el("td", {}, item.operation),
        el("td", {}, instant(item.created_at)), el("td", {}, item.conflict_type || ""), el("td", {}, item.reason || ""),
        el("td", { class: "actions" }, el("label", { for: `reason-${item.id}` }, t("status.decision_reason")), reason,
          el("button", { type: "button", onclick: decide("retry") }, t("status.retry")),
          el("button", { type: "button", class: "danger", onclick: decide("discard") }, t("status.discard"))));
    }));
  }

  async function refresh() {
    let health;
    let counters;
    try {
      [health, counters] = await Promise.all([
        api("/api/v1/healthz", { auth: false }), api("/metrics", { auth: false })]);
    } catch (error) {
      refreshed.textContent = t("status.unreachable");
      if (!(error instanceof Problem)) throw error;
      return;
    }
    const now = Date.now() / 1000;
    if (!last) seed(counters.history || []);
    if (last) {
      const seconds = Math.max(now - last.at, 0.001);
      series[0].push(now);
      series[1].push((counters.requests_total - last.requests) / seconds);
      series[2].push((counters.requests_errors - last.errors) / seconds);
      series[3].push((counters.requests_client_errors - last.refusals) / seconds);
      for (const s of series) if (s.length > WINDOW_POINTS) s.shift();
    }
    last = { at: now, requests: counters.requests_total, errors: counters.requests_errors,
      refusals: counters.requests_client_errors };
    const fact = (term, value, attrs = {}) => [el("dt", {}, term), el("dd", attrs, value)];
    const yesNo = (value) => t(value ? "status.yes" : "status.no");
    fill(facts,
      fact(t("status.mode"), t(`mode.${health.mode}`), { id: "mode", "data-mode": health.mode, class: `mode ${health.mode}` }),
      fact(t("status.since"), health.fallback_since ? instant(health.fallback_since) : t("common.none")),
      fact(t("status.database"), health.database),
      fact(t("status.reachable"), yesNo(health.database_reachable)),
      fact(t("status.mirror_lag"), health.mirror_lag_seconds === null || health.mirror_lag_seconds === undefined
        ? t("common.none") : t("status.seconds", { n: health.mirror_lag_seconds.toFixed(1) })),
      fact(t("status.replay_pending"), String(health.replay_pending ?? 0)),
      fact(t("status.replay_conflicts"), String(health.replay_conflicts ?? 0)),
      fact(t("status.rate_limit"), health.rate_limit_backend),
      fact(t("status.version"), version || t("common.none")));
    refreshed.textContent = t("status.refreshed", {
      time: new Date().toLocaleTimeString(document.documentElement.lang), seconds: REFRESH_SECONDS });
    chart(document.getElementById("chart"));
    try { await conflicts(); } catch (error) { showProblem(error); }
  }

  await refresh();
  setInterval(refresh, REFRESH_SECONDS * 1000);
}, { needsKey: false });
