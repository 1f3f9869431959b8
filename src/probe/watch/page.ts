/**
 * The live page (`GET /`): one HTML document with its CSS and script inline, no framework and no
 * external asset, so it works in a cluster without internet. The script listens to
 * `/api/events` and redraws from each `report` event. Every text from the report reaches the DOM
 * through textContent/attributes set by the DOM API, never through HTML parsing: a node name
 * like `<img onerror=…>` shows as text. The Content-Security-Policy allows only this script and
 * this style (by hash) and connections to this server.
 */
import { createHash } from 'node:crypto';

const STYLE = `
:root{--bg:#f6f7f9;--card:#fff;--ink:#1c2330;--dim:#5d6778;--line:#e2e6ec;--ok:#1a7f37;--ok-bg:#dcf5e3;--bad:#c4231b;--bad-bg:#fde3e1;--warn:#8a5a00;--warn-bg:#fff1cc;--na:#eef0f3}
@media (prefers-color-scheme:dark){:root{--bg:#12151b;--card:#1b2029;--ink:#e6e9ef;--dim:#9aa4b5;--line:#2b3240;--ok:#4ac26b;--ok-bg:#173a24;--bad:#ff7b72;--bad-bg:#4a1d1b;--warn:#e3b341;--warn-bg:#3d3116;--na:#262c37}}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--ink)}
main{max-width:1100px;margin:0 auto;padding:16px}
header{display:flex;flex-wrap:wrap;align-items:center;gap:8px 16px;margin-bottom:12px}
h1{font-size:20px;margin:0;font-weight:650;overflow-wrap:anywhere}
h1 small{font-weight:400;color:var(--dim)}
h2{font-size:16px;margin:22px 0 8px}
.verdict{font-weight:700;letter-spacing:.04em;padding:4px 12px;border-radius:999px;font-size:14px}
.verdict.ok{background:var(--ok-bg);color:var(--ok)}.verdict.broken,.verdict.error{background:var(--bad-bg);color:var(--bad)}.verdict.wait{background:var(--na);color:var(--dim)}
.facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(190px,1fr));gap:8px;margin:0 0 8px}
.fact{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:8px 12px;min-width:0}
.fact.wide{grid-column:span 2}
.fact dt{font-size:12px;color:var(--dim);text-transform:uppercase;letter-spacing:.05em}
.fact dd{margin:2px 0 0;font-weight:600;overflow-wrap:anywhere}
.live{font-size:13px;color:var(--dim)}.live::before{content:"";display:inline-block;width:8px;height:8px;border-radius:50%;margin-right:6px;background:var(--dim)}
.live.on::before{background:var(--ok)}.live.off::before{background:var(--bad)}
.node{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 14px;margin:0 0 12px}
.node h3{margin:0;font-size:15px;overflow-wrap:anywhere}
.node .meta{color:var(--dim);font-size:13px;margin:2px 0 8px;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%}
th{text-align:left;font-size:12px;color:var(--dim);font-weight:600;text-transform:uppercase;letter-spacing:.05em;padding:4px 8px;border-bottom:1px solid var(--line)}
td{padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
tr:last-child td{border-bottom:0}
td.dialed{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px;overflow-wrap:anywhere;word-break:break-all}
td.result{min-width:0}
td.forms{white-space:nowrap;width:1%}
.badge{display:inline-block;font-size:12px;font-weight:650;padding:1px 8px;border-radius:999px;margin-left:8px;vertical-align:2px}.badge.yes{background:var(--ok-bg);color:var(--ok)}.badge.no{background:var(--bad-bg);color:var(--bad)}
.form{display:inline-block;font-size:12px;font-weight:600;padding:1px 8px;border-radius:6px;background:var(--na);margin:0 4px 2px 0;white-space:nowrap}
.res{font-weight:650}.res.yes{color:var(--ok)}.res.no{color:var(--bad)}
tr.yes td.result{background:var(--ok-bg)}tr.no td.result{background:var(--bad-bg)}
.why{display:block;color:var(--dim);font-size:13px;overflow-wrap:anywhere}
.advice{list-style:none;padding:0;margin:0}
.advice li{background:var(--warn-bg);border-left:4px solid var(--warn);border-radius:6px;padding:8px 12px;margin:0 0 8px;white-space:pre-wrap;overflow-wrap:anywhere}
.advice code{font-weight:700;color:var(--warn);margin-right:6px}
.none{color:var(--dim)}
.mesh{overflow-x:auto}
.mesh table{width:auto}.mesh th,.mesh td{border:0;padding:2px}
.mesh th{text-transform:none;letter-spacing:0;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;white-space:pre;vertical-align:middle}
.mesh th.who{max-width:min(60vw,420px);overflow:hidden;text-overflow:ellipsis;padding-right:8px}
.mesh th.num{text-align:center}.mesh th.corner{color:var(--dim);font-family:inherit;font-weight:400;text-align:left}
.cell{width:30px;height:30px;border-radius:6px;background:var(--na)}
.cell.pong{background:var(--ok)}.cell.pang{background:var(--bad)}.cell.self{background:repeating-linear-gradient(45deg,var(--na),var(--na) 4px,var(--line) 4px,var(--line) 8px)}
.legend{font-size:13px;color:var(--dim);margin-top:6px}.legend span{display:inline-block;width:12px;height:12px;border-radius:3px;vertical-align:-1px;margin:0 4px 0 10px}
.err{background:var(--bad-bg);color:var(--bad);border-radius:8px;padding:10px 12px;overflow-wrap:anywhere}
footer{margin:24px 0 8px;font-size:13px;color:var(--dim)}footer a{color:inherit}
@media (max-width:640px){
main{padding:10px}h1{font-size:17px}.facts{grid-template-columns:1fr 1fr}.fact.wide{grid-column:1/-1}
table.attempts thead{display:none}
table.attempts tr{display:grid;grid-template-columns:96px 1fr;gap:2px 8px;padding:8px 0;border-bottom:1px solid var(--line)}
table.attempts tr:last-child{border-bottom:0}
table.attempts td{border:0;padding:0 6px}
table.attempts td.forms{width:auto;white-space:normal}
table.attempts td.dialed{grid-column:1/-1;order:3}
tr.yes td.result,tr.no td.result{background:none}
}
`;

const SCRIPT = `
"use strict";
var MODE = {default:"CoreDNS default: dashed-IP endpoint names", endpoint_pod_names:"CoreDNS endpoint_pod_names: pod-name endpoint names", unknown:"unknown (SRV targets do not tell)"};
var REASON = {mismatch:"name mismatch","illegal-host":"illegal host",unresolvable:"unresolvable",unreachable:"unreachable","not-registered":"not registered","bad-cookie":"bad cookie","not-allowed":"not allowed","handshake-failed":"handshake failed"};
var FORMS = ["ip","localhost","short","dns","fqdn"];
var last = null;
function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined && text !== null) e.textContent = String(text); return e; }
function add(parent) { for (var i = 1; i < arguments.length; i++) if (arguments[i]) parent.appendChild(arguments[i]); return parent; }
function fact(label, value, id, wide) { var d = el("div", wide ? "fact wide" : "fact"); var dd = el("dd", null, value); if (id) dd.id = id; return add(d, el("dt", null, label), dd); }
function shortName(n) { var at = n.indexOf("@"); if (at < 0) return n; var h = n.slice(at + 1); return /^[0-9.]+$|:/.test(h) ? n : n.slice(0, at + 1) + h.split(".")[0]; }
function why(a) {
  if (a.accepted) return "";
  if (a.reason === "mismatch") return "the node calls itself " + (a.actual || "?");
  if (a.reason === "bad-cookie") return "name accepted, cookie rejected";
  var d = a.detail || "";
  var m = /\\((-s?name)\\) refuses to dial it: .*; (Hostname .* is illegal)$/.exec(d);
  if (m) return (m[1] === "-name" ? "a -name node refuses hosts without a dot" : "an -sname node refuses hosts with a dot") + " (" + m[2] + ")";
  return d;
}
function ago(t) { var s = Math.max(0, Math.round((Date.now() - t) / 1000)); return s < 90 ? s + " s ago" : s < 5400 ? Math.round(s / 60) + " min ago" : Math.round(s / 3600) + " h ago"; }
function nodeCard(n) {
  var card = el("section", "node");
  card.setAttribute("data-node", n.name);
  var h = el("h3", null, n.name + (n.nameKnown ? "" : " (true name unknown)"));
  var dns = null; n.attempts.forEach(function (a) { if (a.forms.indexOf("dns") >= 0) dns = a; });
  var okDns = !!(dns && dns.accepted);
  add(h, el("span", "badge " + (okDns ? "yes" : "no"), okDns ? "reachable by its DNS name" : "not reachable by its DNS name"));
  add(card, h);
  var mode = n.longNames === undefined ? "" : n.longNames ? " · long names" : " · short names";
  add(card, el("div", "meta", n.host + " · dist port " + n.port + mode + (n.firstContact ? " · first contact: " + n.firstContact : "")));
  var t = el("table", "attempts"), head = el("thead"), hr = el("tr");
  ["form", "dialed", "result"].forEach(function (h) { add(hr, el("th", null, h)); });
  add(t, add(head, hr));
  var body = el("tbody");
  n.attempts.forEach(function (a) {
    var tr = el("tr", a.accepted ? "yes" : "no");
    tr.setAttribute("data-forms", a.forms.join(" "));
    var f = el("td", "forms");
    a.forms.forEach(function (x) { add(f, el("span", "form", x)); });
    var r = el("td", "result");
    add(r, el("span", "res " + (a.accepted ? "yes" : "no"), a.accepted ? "accepted" : (REASON[a.reason] || a.reason || "failed")));
    var w = why(a); if (w) add(r, el("span", "why", w));
    add(body, add(tr, f, el("td", "dialed", a.dialed), r));
  });
  return add(card, add(t, body));
}
function meshPicture(mesh, nodes) {
  var box = el("div", "mesh");
  var names = []; nodes.forEach(function (n) { names.push(n.name); });
  mesh.matrix.forEach(function (m) { if (names.indexOf(m.from) < 0) names.push(m.from); if (names.indexOf(m.to) < 0) names.push(m.to); });
  if (names.length < 2) { add(box, el("p", "none", "fewer than two nodes: nothing to ping")); }
  else {
    var t = el("table"), hr = el("tr");
    add(hr, el("th", "corner", "from \\u2193 to \\u2192"));
    names.forEach(function (n, i) { var th = el("th", "num", String(i + 1)); th.title = n; add(hr, th); });
    add(t, add(el("thead"), hr));
    var body = el("tbody");
    names.forEach(function (from, i) {
      var tr = el("tr"), th = el("th", "who", (i + 1) + "  " + shortName(from)); th.title = from; add(tr, th);
      names.forEach(function (to) {
        var td = el("td"), c = el("div", "cell");
        if (from === to) { c.className = "cell self"; c.title = from; }
        else {
          var hit = null; mesh.matrix.forEach(function (m) { if (m.from === from && m.to === to) hit = m; });
          if (hit) { c.className = "cell " + (hit.result === "pong" ? "pong" : "pang"); c.title = from + " \\u2192 " + to + ": " + hit.result; c.setAttribute("data-result", hit.result); }
          else c.title = from + " \\u2192 " + to + ": not asked";
        }
        add(tr, add(td, c));
      });
      add(body, tr);
    });
    add(box, add(t, body));
    var lg = el("div", "legend"); lg.appendChild(document.createTextNode("net_adm:ping"));
    [["pong", "var(--ok)"], ["pang / error", "var(--bad)"], ["not asked", "var(--na)"]].forEach(function (x) { var s = el("span"); s.style.background = x[1]; add(lg, s, document.createTextNode(x[0])); });
    add(box, lg);
  }
  mesh.skipped.forEach(function (s) { add(box, el("p", "none", s.node + ": not asked (" + s.reason + ")")); });
  return box;
}
function render(ev) {
  last = ev;
  var r = ev.report, verdict = r.error ? "error" : r.verdict;
  var v = document.getElementById("verdict");
  v.className = "verdict " + verdict; v.textContent = verdict === "ok" ? "OK" : verdict === "error" ? "ERROR" : "BROKEN";
  document.getElementById("service").textContent = r.service || "";
  document.title = (verdict === "ok" ? "OK" : verdict.toUpperCase()) + " \\u00b7 beamnode probe " + (r.service || "");
  var facts = document.getElementById("facts"); facts.textContent = "";
  add(facts, fact("DNS mode", r.dnsMode ? MODE[r.dnsMode] || r.dnsMode : "\\u2014", "dns-mode", true),
    fact("nodes", r.nodes ? r.nodes.length : "\\u2014", "node-count"),
    fact("last run", new Date(ev.at).toLocaleTimeString(), "last-run"),
    fact("run", "#" + ev.run + " in " + (ev.durationMs / 1000).toFixed(1) + " s", "run"));
  var main = document.getElementById("report"); main.textContent = "";
  if (r.error) { add(main, el("p", "err", (r.error.code || "error") + ": " + r.error.message)); }
  if (r.nodes) {
    add(main, el("h2", null, "Nodes and the names they accept"));
    if (!r.nodes.length) add(main, el("p", "none", "no nodes found"));
    r.nodes.forEach(function (n) { add(main, nodeCard(n)); });
  }
  if (r.mesh) { add(main, el("h2", null, "Mesh")); add(main, meshPicture(r.mesh, r.nodes || [])); }
  if (r.advice) {
    add(main, el("h2", null, "Advice"));
    if (!r.advice.length) add(main, el("p", "none", "nothing to fix"));
    else { var ul = el("ul", "advice"); r.advice.forEach(function (a) { add(ul, add(el("li"), el("code", null, a.code), document.createTextNode(a.text))); }); add(main, ul); }
  }
  tick();
}
function tick() { var l = document.getElementById("last-run"); if (l && last) l.textContent = new Date(last.at).toLocaleTimeString() + " (" + ago(new Date(last.at).getTime()) + ")"; }
setInterval(tick, 1000);
var live = document.getElementById("live");
function connect() {
  var es = new EventSource("api/events");
  es.addEventListener("open", function () { live.className = "live on"; live.textContent = "live"; });
  es.addEventListener("error", function () { live.className = "live off"; live.textContent = "reconnecting\\u2026"; });
  es.addEventListener("report", function (e) { try { render(JSON.parse(e.data)); } catch (x) { console.error(x); } });
}
connect();
`;

const hash = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;

/** The page's Content-Security-Policy: its own inline script and style only, connections to this origin. */
export const PAGE_CSP = `default-src 'none'; script-src ${hash(SCRIPT)}; style-src ${hash(STYLE)}; connect-src 'self'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>beamnode probe</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header>
<h1>beamnode probe <small id="service"></small></h1>
<span id="verdict" class="verdict wait">WAITING</span>
<span id="live" class="live">connecting…</span>
</header>
<div id="facts" class="facts"></div>
<div id="report"><p class="none">waiting for the first run…</p></div>
<noscript><p>This page updates itself with JavaScript; without it, read <a href="api/report">api/report</a>.</p></noscript>
<footer><a href="metrics">metrics</a> · <a href="api/report">api/report</a> · <a href="api/events">api/events</a></footer>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
