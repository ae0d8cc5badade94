// The counter page: polls /result/{id} every second and lays out the display document.
// Presentation data is only ever set with textContent (never innerHTML).
"use strict";
(function () {
  const root = document.getElementById("counter");
  if (!root) { return; }
  const requestId = root.dataset.requestId;
  const expiresAt = Number(root.dataset.expiresAt) * 1000;
  const banner = document.getElementById("banner");
  const headline = document.getElementById("headline");
  const details = document.getElementById("details");
  const countdown = document.getElementById("countdown");
  const STATES = {
    ok: "✓ passed · 通过",
    fail: "✗ failed · 未通过",
    not_run: "– not run · 未执行",
  };
  let poller = null;
  let ticker = null;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function both(texts) {
    const en = String(texts.en || "");
    const zh = String(texts["zh-Hans"] || "");
    return en === zh || !zh ? en : en + " · " + zh;
  }

  function renderReason(reason) {
    const box = el("div", "reason-box");
    const first = el("p", "reason");
    first.append(el("span", "code", reason.code), document.createTextNode(" — " + reason.en));
    box.append(first, el("p", "reason", reason["zh-Hans"]));
    if (reason.detail) { box.append(el("p", "reason muted", reason.detail)); }
    return box;
  }

  function renderDecision(decision) {
    const box = el("div", "policy");
    box.append(el("h3", null, "Lending policy · 贷款政策"));
    box.append(el("span", "decision " + decision.code, both(decision)));
    const list = el("ul", "reasons");
    for (const reason of decision.reasons) {
      const item = el("li", reason.decision);
      item.append(el("span", null, reason.en), el("br"), el("span", null, reason["zh-Hans"]));
      list.append(item);
    }
    box.append(list);
    return box;
  }

  function renderClaims(groups) {
    const box = el("div", "claims-box");
    for (const group of groups) {
      box.append(el("h3", null, both(group)));
      const list = el("dl", "claims");
      for (const row of group.rows) {
        const term = el("dt", null, both(row));
        term.dataset.path = row.path;
        const value = el("dd", null, both(row.value));
        value.dataset.path = row.path;
        list.append(term, value);
      }
      box.append(list);
    }
    return box;
  }

  function renderChecks(checks) {
    const box = el("div", "checks-box");
    box.append(el("h3", null, "Checks · 检查项目"));
    const table = el("table", "checks");
    for (const check of checks) {
      const row = el("tr", check.state);
      row.dataset.check = check.name;
      row.append(el("td", "name", both(check)), el("td", "state", STATES[check.state] || check.state),
                 el("td", "detail", check.detail));
      table.append(row);
    }
    box.append(table);
    return box;
  }

  function render(display) {
    root.classList.add("answered");
    banner.className = "banner " + (display.verified ? "ok" : "fail");
    headline.textContent = both(display.headline);
    const parts = [];
    if (display.reason) { parts.push(renderReason(display.reason)); }
    if (display.decision) { parts.push(renderDecision(display.decision)); }
    if (display.claims && display.claims.length) { parts.push(renderClaims(display.claims)); }
    parts.push(renderChecks(display.checks || []));
    details.replaceChildren(...parts);
  }

  function stop() {
    if (poller !== null) { clearInterval(poller); poller = null; }
    if (ticker !== null) { clearInterval(ticker); ticker = null; }
    countdown.textContent = "";
  }

  function halt(className, text) {
    banner.className = "banner " + className;
    headline.textContent = text;
    stop();
  }

  async function poll() {
    try {
      const response = await fetch("/result/" + encodeURIComponent(requestId),
                                   { cache: "no-store", credentials: "same-origin" });
      if (response.ok) {
        const doc = await response.json();
        if (doc.status === "done" && doc.display) {
          render(doc.display);
          stop();
          return;
        }
      } else if (response.status === 403 || response.status === 404) {
        halt("fail", "This pre-check cannot be shown here · 无法在此显示该预审");
        return;
      }
    } catch (err) {
      // a network hiccup: the next tick tries again
    }
    if (Date.now() > expiresAt + 60000) {
      halt("expired", "Request expired — start a new pre-check · 请求已过期，请重新发起预审");
    }
  }

  function tick() {
    const left = Math.max(0, Math.round((expiresAt - Date.now()) / 1000));
    const text = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
    countdown.textContent = left > 0 ? "(" + text + " left · 剩余 " + text + ")"
                                     : "(expired · 已过期)";
  }

  document.getElementById("copy").addEventListener("click", function () {
    const button = this;
    const text = document.getElementById("request-uri").textContent;
    const done = function () { button.textContent = "Copied · 已复制"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { selectUri(); });
    } else {
      selectUri();
    }
  });

  function selectUri() {
    const range = document.createRange();
    range.selectNodeContents(document.getElementById("request-uri"));
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  tick();
  ticker = setInterval(tick, 1000);
  poller = setInterval(poll, 1000);
  poll();
})();
