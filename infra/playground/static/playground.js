/* dagbot playground: a Slack look-alike page for the local Slack stand-in.
 *
 *   1. DOM + network helpers
 *   2. Text formatting: Slack mrkdwn, standard Markdown, emoji
 *   3. Block Kit renderer (messages and modals)
 *   4. Message elements
 *   5. Views: sidebar, channel, thread, dev panel, modal, toasts
 *   6. State, SSE plumbing and user input wiring
 *
 * Safety rule: no innerHTML anywhere. All text reaches the page through text
 * nodes (h() appends strings as text), and links go through safeUrl().
 */
"use strict";

/* ------------------------------------------------------------------ 1. helpers */

/** h("div", {class, text, onclick, dataset, ...attrs}, ...children) → Element. Strings become text nodes. */
function h(tag, attrs, ...kids) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === "class") n.className = v;
    else if (k === "text") n.textContent = v;
    else if (k === "dataset") Object.assign(n.dataset, v);
    else if (k.startsWith("on")) n.addEventListener(k.slice(2), v);
    else n.setAttribute(k, v === true ? "" : v);
  }
  for (const c of kids.flat(Infinity)) if (c != null && c !== false) n.append(c instanceof Node ? c : String(c));
  return n;
}
const $ = (sel) => document.querySelector(sel);
const txt = (s) => document.createTextNode(String(s ?? ""));

/** POST JSON; always resolves to an object with `ok`. */
async function post(path, body) {
  try {
    const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    let j = null;
    try { j = await r.json(); } catch { /* not JSON */ }
    return j && typeof j === "object" ? j : { ok: r.ok, error: r.ok ? undefined : `HTTP ${r.status}` };
  } catch (e) {
    return { ok: false, error: "Network error: " + e.message };
  }
}

const tsNum = (ts) => parseFloat(ts) || 0;
const pad = (n) => String(n).padStart(2, "0");
function hhmm(sec) { const d = new Date(sec * 1000); return `${pad(d.getHours())}:${pad(d.getMinutes())}`; }
const fullTime = (sec) => new Date(sec * 1000).toLocaleString();
function dayLabel(sec) {
  const d = new Date(sec * 1000), today = new Date();
  if (d.toDateString() === today.toDateString()) return "Today";
  return d.toLocaleDateString(undefined, { weekday: "long", month: "long", day: "numeric" });
}
function humanSize(n) {
  if (n == null) return "";
  if (n < 1024) return `${n} B`;
  if (n < 1048576) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1048576).toFixed(1)} MB`;
}

/** Only absolute http(s)/mailto links are clickable; anything else (javascript:, relative) stays text. */
function safeUrl(u) {
  if (!/^(https?:\/\/|mailto:)/i.test(String(u).trim())) return null;
  try {
    const url = new URL(String(u).trim());
    return ["http:", "https:", "mailto:"].includes(url.protocol) ? url.href : null;
  } catch { return null; }
}
function link(url, label) {
  const href = safeUrl(url);
  const content = label ?? url;
  return href ? h("a", { href, target: "_blank", rel: "noopener noreferrer" }, content) : h("span", {}, content);
}

/* ------------------------------------------------------------------ 2. text formatting */

const EMOJI = {
  white_check_mark: "✅", x: "❌", hourglass_flowing_sand: "⏳", hourglass: "⌛", warning: "⚠️",
  no_entry_sign: "🚫", no_entry: "⛔", arrows_counterclockwise: "🔄", black_circle: "⚫", white_circle: "⚪",
  large_blue_circle: "🔵", blue_circle: "🔵", large_green_circle: "🟢", red_circle: "🔴", heavy_check_mark: "✔️",
  fast_forward: "⏩", stop_button: "⏹️", thumbsup: "👍", "+1": "👍", thumbsdown: "👎", "-1": "👎",
  robot_face: "🤖", package: "📦", email: "📧", lock: "🔒", construction: "🚧", bulb: "💡", memo: "📝",
  mag: "🔍", tada: "🎉", rocket: "🚀", eyes: "👀", fire: "🔥", gear: "⚙️", information_source: "ℹ️",
  heavy_multiplication_x: "✖️", wave: "👋", smile: "😄", question: "❓", exclamation: "❗", link: "🔗",
  clipboard: "📋", file_folder: "📁", page_facing_up: "📄", clock3: "🕒", stopwatch: "⏱️", zap: "⚡",
  raised_hand: "✋", thought_balloon: "💭", heavy_minus_sign: "➖", repeat: "🔁", pencil2: "✏️", pencil: "📝",
  wrench: "🔧", bell: "🔔", key: "🔑", hammer_and_wrench: "🛠️", ballot_box_with_check: "☑️", rotating_light: "🚨",
  arrow_forward: "▶️", arrow_up: "⬆️", busts_in_silhouette: "👥", label: "🏷️", raising_hand: "🙋", loudspeaker: "📢",
  pager: "📟",
};
function emojiNode(name, unicode) {
  let ch = EMOJI[name];
  if (!ch && unicode) { try { ch = String.fromCodePoint(...unicode.split("-").map((x) => parseInt(x, 16))); } catch { /* ignore */ } }
  return ch ? h("span", { class: "emoji", title: `:${name}:` }, ch) : txt(`:${name}:`);
}
const unesc = (s) => String(s).replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

/**
 * Generic inline tokenizer: repeatedly finds the earliest match among `rules`
 * (each {re: /…/g, fn: match → Node}); text between matches goes through `plain`.
 * On ties the earlier rule wins, so list code spans first.
 */
function inlineParse(text, rules, plain) {
  const out = [];
  let pos = 0;
  while (pos < text.length) {
    let best = null, rule = null;
    for (const r of rules) {
      r.re.lastIndex = pos;
      const m = r.re.exec(text);
      if (m && m[0].length && (!best || m.index < best.index)) { best = m; rule = r; }
    }
    if (!best) break;
    if (best.index > pos) out.push(plain(text.slice(pos, best.index)));
    out.push(rule.fn(best));
    pos = best.index + best[0].length;
  }
  if (pos < text.length) out.push(plain(text.slice(pos)));
  return out;
}

const EMOJI_RULE = { re: /:([a-z0-9_+-]+):/g, fn: (m) => emojiNode(m[1]) };

/* --- Slack mrkdwn --- */
const MRKDWN_RULES = [
  { re: /`([^`\n]+)`/g, fn: (m) => h("code", {}, unesc(m[1])) },
  { re: /<([^<>\n]+)>/g, fn: (m) => angleToken(m[1]) },
  { re: /(?<![\p{L}\p{N}*])\*(?=\S)([^*\n]*?\S)\*(?![\p{L}\p{N}*])/gu, fn: (m) => h("b", {}, mrkdwnInline(m[1])) },
  { re: /(?<![\p{L}\p{N}_])_(?=\S)((?:[^_\n]|(?<=[\p{L}\p{N}])_(?=[\p{L}\p{N}]))*?\S)_(?![\p{L}\p{N}_])/gu, fn: (m) => h("i", {}, mrkdwnInline(m[1])) },
  { re: /(?<![\p{L}\p{N}~])~(?=\S)([^~\n]*?\S)~(?![\p{L}\p{N}~])/gu, fn: (m) => h("s", {}, mrkdwnInline(m[1])) },
  EMOJI_RULE,
];
const mrkdwnInline = (s) => inlineParse(s, MRKDWN_RULES, (t) => txt(unesc(t)));

/** Slack's <…> escapes: user/channel mentions, specials, dates, links. */
function angleToken(raw) {
  const bar = raw.indexOf("|");
  const target = bar < 0 ? raw : raw.slice(0, bar);
  const label = bar < 0 ? null : unesc(raw.slice(bar + 1));
  if (target[0] === "@") return mention(target.slice(1), label);
  if (target[0] === "#") return h("span", { class: "mention" }, "#" + (label || channelName(target.slice(1))));
  if (target[0] === "!") {
    const cmd = target.slice(1);
    if (["here", "channel", "everyone"].includes(cmd)) return h("span", { class: "mention broadcast" }, "@" + cmd);
    if (cmd.startsWith("subteam^")) return h("span", { class: "mention" }, label || "@group");
    return txt(label || cmd); // <!date^…|fallback> and unknown specials
  }
  if (!safeUrl(unesc(target))) return txt(unesc(`<${raw}>`)); // not a link: show literally
  return link(unesc(target), label || unesc(target));
}

/** Block-level mrkdwn: ``` fences → <pre>, "> " lines → <blockquote>, other lines kept as lines. */
function mrkdwn(text) {
  const root = h("div", { class: "mrkdwn" });
  const parts = String(text ?? "").split("```");
  if (parts.length % 2 === 0) parts.push(parts.pop() + "```" + (parts.pop() ?? "")); // unclosed fence: literal
  parts.forEach((part, i) => {
    if (i % 2 === 1) { root.append(h("pre", { class: "code" }, unesc(part.replace(/^\n/, "").replace(/\n$/, "")))); return; }
    if (i > 0) part = part.replace(/^\n/, "");
    if (i < parts.length - 1) part = part.replace(/\n$/, "");
    if (!part) return;
    let quote = null, run = [];
    const flush = () => { if (run.length) root.append(h("span", {}, run)); run = []; };
    part.split("\n").forEach((line, j, all) => {
      const q = /^(?:>|&gt;) ?(.*)$/.exec(line);
      if (q) {
        flush();
        if (!quote) { quote = h("blockquote", {}); root.append(quote); } else quote.append("\n");
        quote.append(...mrkdwnInline(q[1]));
      } else {
        quote = null;
        run.push(...mrkdwnInline(line));
        if (j < all.length - 1) run.push("\n");
      }
    });
    flush();
  });
  return root;
}

/** plain_text objects: literal text, emoji shortcodes only (unless emoji:false). */
function plainText(s, emoji = true) {
  return h("span", {}, emoji ? inlineParse(String(s ?? ""), [EMOJI_RULE], txt) : String(s ?? ""));
}

/* --- standard Markdown (for the `markdown` block) --- */
const MD_RULES = [
  { re: /`([^`\n]+)`/g, fn: (m) => h("code", {}, m[1]) },
  { re: /\[([^\]\n]+)\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g, fn: (m) => link(m[2], mdInline(m[1])) },
  // Slack reads its own <…> syntax in markdown blocks too: mentions, specials, labelled links
  { re: /<([@#!][^<>\n]*|(?:https?:\/\/|mailto:)[^<>\s|]+(?:\|[^<>\n]*)?)>/g, fn: (m) => angleToken(m[1]) },
  { re: /https?:\/\/[^\s<>()]*[^\s<>().,;:!?'"]/g, fn: (m) => link(m[0]) },
  { re: /\*\*(?=\S)([^\n]*?\S)\*\*|__(?=\S)([^\n]*?\S)__/g, fn: (m) => h("b", {}, mdInline(m[1] ?? m[2])) },
  { re: /(?<![\w*])\*(?=[^\s*])([^*\n]*?\S)\*(?!\*)|(?<![\w_])_(?=\S)((?:[^_\n]|(?<=[^\W_])_(?=[^\W_]))*?\S)_(?![\w_])/g, fn: (m) => h("i", {}, mdInline(m[1] ?? m[2])) },
  { re: /~~(?=\S)([^\n]*?\S)~~/g, fn: (m) => h("s", {}, mdInline(m[1])) },
  EMOJI_RULE,
];
const mdInline = (s) => inlineParse(s, MD_RULES, txt);
const MD_LIST = /^(\s*)([-*+]|\d+[.)])\s+(.*)$/;
const MD_FENCE = /^\s*(```|~~~)/, MD_HEAD = /^(#{1,6})\s+(.*?)\s*#*\s*$/, MD_HR = /^\s*([-*_])(\s*\1){2,}\s*$/;

function markdown(src) {
  const root = h("div", { class: "md" });
  const lines = String(src ?? "").replace(/\r\n?/g, "\n").split("\n");
  const n = lines.length;
  const isStart = (l) => MD_FENCE.test(l) || MD_HEAD.test(l) || MD_HR.test(l) || /^\s*>/.test(l) || MD_LIST.test(l);
  let i = 0, m;
  while (i < n) {
    const line = lines[i];
    if (!line.trim()) { i++; continue; }
    if ((m = MD_FENCE.exec(line))) {
      const buf = [];
      for (i++; i < n && !lines[i].trim().startsWith(m[1]); i++) buf.push(lines[i]);
      i++;
      root.append(h("pre", { class: "code" }, buf.join("\n")));
    } else if ((m = MD_HEAD.exec(line))) {
      root.append(h("div", { class: `md-h md-h${m[1].length}` }, mdInline(m[2]))); i++;
    } else if (MD_HR.test(line)) {
      root.append(h("hr")); i++;
    } else if (/^\s*>/.test(line)) {
      const buf = [];
      while (i < n && /^\s*>/.test(lines[i])) buf.push(lines[i++].replace(/^\s*> ?/, ""));
      root.append(h("blockquote", {}, markdown(buf.join("\n"))));
    } else if (/^\s*\|/.test(line) && i + 1 < n && /^\s*\|?\s*:?-{2,}/.test(lines[i + 1])) {
      const cells = (l) => l.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((c) => c.trim());
      const head = cells(line), rows = [];
      for (i += 2; i < n && /^\s*\|/.test(lines[i]); i++) rows.push(cells(lines[i]));
      root.append(h("table", { class: "md-table" },
        h("thead", {}, h("tr", {}, head.map((c) => h("th", {}, mdInline(c))))),
        h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, mdInline(c))))))));
    } else if (MD_LIST.test(line)) {
      const items = [];
      while (i < n && lines[i].trim()) {
        const lm = MD_LIST.exec(lines[i]);
        // a marker change at the top level (bullets → numbers) starts a new list
        if (lm && items.length && lm[1].length <= items[0].indent && /\d/.test(lm[2]) !== items[0].ordered) break;
        if (lm) items.push({ indent: lm[1].length, ordered: /\d/.test(lm[2]), start: parseInt(lm[2], 10) || 1, text: lm[3] });
        else if (/^\s/.test(lines[i]) && !isStart(lines[i])) items[items.length - 1].text += " " + lines[i].trim();
        else break;
        i++;
      }
      root.append(mdList(items));
    } else {
      const buf = [];
      do buf.push(lines[i++].trim()); while (i < n && lines[i].trim() && !isStart(lines[i]));
      root.append(h("p", {}, mdInline(buf.join(" "))));
    }
  }
  return root;
}

/** Nest list items by indentation (relative to the first item). */
function mdList(items) {
  const base = items[0].indent, stack = [];
  for (const it of items) {
    const indent = Math.max(0, it.indent - base);
    while (stack.length > 1 && indent < stack[stack.length - 1].indent) stack.pop();
    let top = stack[stack.length - 1];
    if (!top || indent > top.indent) {
      const list = h(it.ordered ? "ol" : "ul");
      if (it.ordered && it.start !== 1) list.start = it.start;
      if (top) (top.li || top.el).append(list);
      stack.push((top = { el: list, indent, li: null }));
    }
    top.li = h("li", {}, mdInline(it.text));
    top.el.append(top.li);
  }
  return stack[0].el;
}

/* ------------------------------------------------------------------ 3. Block Kit */

/** Text object → node. mrkdwn or plain_text. */
function textObj(t) {
  if (!t) return null;
  if (typeof t === "string") return mrkdwn(t);
  return t.type === "mrkdwn" ? mrkdwn(t.text) : plainText(t.text, t.emoji !== false);
}
const unsupported = (type) => h("div", { class: "blk unsupported" }, `unsupported block: ${type}`);

function imageEl(url, alt, cls) {
  const img = h("img", { class: cls, src: safeUrl(url) || "", alt: alt || "", title: alt || "", loading: "lazy" });
  img.addEventListener("error", () => img.replaceWith(h("span", { class: cls + " broken", title: alt || "" }, alt || "image")));
  return img;
}

/**
 * Render a list of blocks. ctx = {channel, ts, viewId?, inModal?, values?}
 * (ts/channel identify the message for /ui/action; values preserve modal input).
 */
function renderBlocks(blocks, ctx) {
  return (blocks || []).map((b, i) => {
    const bid = b.block_id ?? (ctx.inModal ? `block_${i}` : null);
    const fn = BLOCKS[b.type];
    try {
      return fn ? fn(b, bid, ctx) : unsupported(b.type);
    } catch (e) {
      console.error("block render failed", b, e);
      return unsupported(b.type + " (malformed)");
    }
  });
}

const BLOCKS = {
  section: (b, bid, ctx) => h("div", { class: "blk section" },
    h("div", { class: "section-main" },
      b.text && textObj(b.text),
      b.fields && h("div", { class: "fields" }, b.fields.map((f) => h("div", { class: "field" }, textObj(f))))),
    b.accessory && h("div", { class: "accessory" }, element(b.accessory, bid, ctx))),
  context: (b) => h("div", { class: "blk context" }, (b.elements || []).map((e) =>
    e.type === "image" ? imageEl(e.image_url, e.alt_text, "ctx-img") : h("span", { class: "ctx-item" }, textObj(e)))),
  actions: (b, bid, ctx) => h("div", { class: "blk actions" }, (b.elements || []).map((e) => element(e, bid, ctx))),
  context_actions: (b, bid, ctx) => h("div", { class: "blk context-actions" }, (b.elements || []).flatMap((e) =>
    e.type === "feedback_buttons" ? ["positive_button", "negative_button"].filter((side) => e[side]).map((side) =>
      element({ type: "button", action_id: e.action_id, value: e[side].value, text: e[side].text,
                feedback: true, accessibility_label: e[side].accessibility_label }, bid, ctx))
      : [element(e, bid, ctx)])),
  header: (b) => h("div", { class: "blk header" }, plainText(b.text?.text, b.text?.emoji !== false)),
  divider: () => h("hr", { class: "blk divider" }),
  image: (b) => h("figure", { class: "blk image" },
    b.title && h("figcaption", {}, plainText(b.title.text)), imageEl(b.image_url, b.alt_text, "blk-img")),
  markdown: (b) => h("div", { class: "blk markdown" }, markdown(b.text)),
  rich_text: (b) => h("div", { class: "blk rich-text" }, (b.elements || []).map(richBlock)),
  input: (b, bid, ctx) => (ctx.inModal ? inputBlock(b, bid, ctx) : unsupported("input")),
  plan: (b) => h("div", { class: "blk plan", "data-testid": "plan" },
    h("div", { class: "plan-title" }, plainText(b.title)),
    h("ol", { class: "plan-tasks" }, (b.tasks || []).map(taskCard))),
  task_card: (b) => h("div", { class: "blk plan" }, h("ol", { class: "plan-tasks" }, taskCard(b))),
};

/** One task of a streamed plan (Slack's task_card): its state, title, details, output, sources. */
const TASK_STATES = { pending: "Pending", in_progress: "In progress", complete: "Complete", error: "Error" };
function taskCard(t) {
  const state = TASK_STATES[t.status] ? t.status : "pending";
  // Slack reads a task's details and output as Markdown (the stand-in keeps each as rich text of one string)
  const rich = (r) => r && markdown((r.elements || []).flatMap((e) => e.elements || []).map((x) => x.text ?? "").join(""));
  return h("li", { class: `task ${state}`, "data-testid": "task", "data-task-id": t.task_id, "data-status": state },
    h("span", { class: "task-icon", "aria-hidden": "true" }),
    h("div", { class: "task-main" },
      h("div", { class: "task-head" },
        h("span", { class: "task-title" }, plainText(t.title)),
        h("span", { class: "task-state" }, TASK_STATES[state])),
      t.details && h("div", { class: "task-details", "data-testid": "task-details" }, rich(t.details)),
      t.output && h("div", { class: "task-output", "data-testid": "task-output" }, rich(t.output)),
      (t.sources || []).length > 0 && h("div", { class: "task-sources" },
        t.sources.map((src) => link(src.url, src.text || src.url)))));
}

/** Interactive elements (actions block / section accessory). */
function element(e, bid, ctx) {
  if (e.type === "button") {
    const key = `${ctx.viewId || ctx.ts}|${bid}|${e.action_id}|${e.feedback ? e.value : ""}`;
    const btn = h("button", {
      class: `bk-btn ${e.style === "primary" || e.style === "danger" ? e.style : "default"}${e.feedback ? " feedback" : ""}`,
      "data-action-id": e.action_id, "data-busy-key": key, type: "button",
      ...(e.accessibility_label ? { "aria-label": e.accessibility_label, title: e.accessibility_label } : {}),
    }, plainText(e.text?.text, e.text?.emoji !== false));
    if (S.busy.has(key)) setBusy(btn, true);
    btn.addEventListener("click", () => clickButton(btn, key, e, bid, ctx));
    return btn;
  }
  if (e.type === "image") return imageEl(e.image_url, e.alt_text, "acc-img");
  const label = e.placeholder?.text || e.initial_option?.text?.text || e.text?.text;
  return h("span", { class: "bk-pill", title: `${e.type} (not interactive in the playground)` }, e.type, label && `: ${label}`);
}

function setBusy(btn, on) {
  btn.classList.toggle("busy", on);
  btn.disabled = on;
  btn.setAttribute("aria-busy", on ? "true" : "false");
}

async function clickButton(btn, key, e, bid, ctx) {
  if (S.busy.has(key)) return;
  S.busy.add(key);
  setBusy(btn, true);
  if (e.url && safeUrl(e.url)) window.open(safeUrl(e.url), "_blank", "noopener");
  const body = { user: S.user, channel: ctx.channel ?? null, ts: ctx.ts ?? null, action_id: e.action_id, block_id: bid, value: e.value ?? null };
  if (ctx.viewId) body.view_id = ctx.viewId; // button inside a modal (assumed extension)
  const r = await post("/ui/action", body);
  S.busy.delete(key);
  // The message may have been re-rendered meanwhile: un-busy whichever button carries the key now.
  document.querySelectorAll("button[data-busy-key]").forEach((b) => { if (b.dataset.busyKey === key) setBusy(b, false); });
  if (!r.ok) toast("error", "Button action failed", r.error || "unknown error");
}

/* --- rich_text --- */
const BULLETS = ["disc", "circle", "square"], NUMBERS = ["decimal", "lower-alpha", "lower-roman"];
function richBlock(e) {
  const kids = (e.elements || []);
  switch (e.type) {
    case "rich_text_section": return h("div", { class: "rt-section" }, kids.map(richInline));
    case "rich_text_preformatted": return h("pre", { class: "code" }, kids.map((x) => (x.type === "link" ? link(x.url, x.text || x.url) : x.text ?? "")));
    case "rich_text_quote": return h("blockquote", {}, kids.map(richInline));
    case "rich_text_list": {
      const indent = e.indent || 0, ordered = e.style === "ordered";
      const list = h(ordered ? "ol" : "ul", { class: "rt-list" }, kids.map((s) => h("li", {}, (s.elements || []).map(richInline))));
      list.style.listStyleType = (ordered ? NUMBERS : BULLETS)[indent % 3];
      list.style.marginLeft = `${22 + indent * 24}px`;
      if (e.offset) list.start = e.offset + 1;
      return list;
    }
    default: return unsupported(e.type);
  }
}
function richInline(x) {
  let n;
  switch (x.type) {
    case "text": n = txt(x.text); break;
    case "link": n = link(x.url, x.text || x.url); break;
    case "user": n = mention(x.user_id); break;
    case "channel": n = h("span", { class: "mention" }, "#" + channelName(x.channel_id)); break;
    case "usergroup": n = h("span", { class: "mention" }, "@" + x.usergroup_id); break;
    case "broadcast": n = h("span", { class: "mention broadcast" }, "@" + x.range); break;
    case "emoji": n = emojiNode(x.name, x.unicode); break;
    case "date": n = txt(x.fallback || fullTime(x.timestamp)); break;
    case "color": n = txt(x.value); break;
    default: n = h("span", { class: "bk-pill" }, x.type);
  }
  const st = x.style || {};
  if (st.code) n = h("code", {}, n);
  if (st.bold) n = h("b", {}, n);
  if (st.italic) n = h("i", {}, n);
  if (st.strike) n = h("s", {}, n);
  return n;
}

/* --- modal inputs --- */
function inputBlock(b, bid, ctx) {
  const el = b.element || {};
  const aid = el.action_id || "value";
  const kept = ctx.values?.[bid]?.[aid];
  let control;
  if (el.type === "plain_text_input") {
    control = h(el.multiline ? "textarea" : "input", {
      class: "bk-input", type: el.multiline ? null : "text", rows: el.multiline ? 4 : null,
      placeholder: el.placeholder?.text, maxlength: el.max_length, minlength: el.min_length,
      id: `in-${bid}`, "data-testid": `input-${bid}`,
    });
    control.value = kept ?? el.initial_value ?? "";
  } else if (el.type === "static_select") {
    control = h("select", { class: "bk-input", id: `in-${bid}` },
      h("option", { value: "" }, el.placeholder?.text || "Choose…"),
      (el.options || []).map((o) => h("option", { value: o.value }, o.text?.text ?? o.value)));
    control.value = kept ?? el.initial_option?.value ?? "";
  } else if (el.type === "radio_buttons" || el.type === "checkboxes") {
    // one fieldset of radios or boxes; its value (collectValues) is the chosen option's, or the ticked ones'
    const radio = el.type === "radio_buttons";
    const chosen = kept ?? (radio ? el.initial_option?.value : (el.initial_options || []).map((o) => o.value));
    const picked = (o) => (radio ? chosen === o.value : [].concat(chosen || []).includes(o.value));
    control = h("fieldset", { class: `bk-choices ${radio ? "radios" : "boxes"}`, id: `in-${bid}`, "data-testid": `input-${bid}`, "data-kind": el.type },
      (el.options || []).map((o, i) => h("label", { class: "bk-choice" },
        h("input", { type: radio ? "radio" : "checkbox", name: `choice-${bid}`, value: o.value, checked: picked(o),
          "data-testid": `choice-${bid}-${i}` }),
        h("span", {}, textObj(o.text)), o.description && h("span", { class: "hint" }, textObj(o.description)))));
  } else {
    return h("div", { class: "input-block" }, h("label", {}, plainText(b.label?.text)), element(el, bid, ctx));
  }
  control.dataset.blockId = bid;
  control.dataset.actionId = aid;
  if (!b.optional) control.dataset.required = "1";
  return h("div", { class: "input-block", "data-input-block": bid },
    h("label", { for: `in-${bid}` }, plainText(b.label?.text), b.optional && h("span", { class: "optional" }, " (optional)")),
    control,
    b.hint && h("div", { class: "hint" }, plainText(b.hint.text)),
    h("div", { class: "input-error", "data-testid": "input-error", hidden: true }));
}

/* ------------------------------------------------------------------ 4. messages */

const PALETTE = ["#e8912d", "#2eb67d", "#36c5f0", "#e01e5a", "#4a154b", "#1264a3", "#9e3997", "#d97b00", "#0b7a75"];
const botId = () => S.state?.bot?.user_id;
function userInfo(id) {
  const st = S.state || {};
  if (id && id === botId()) return { name: st.bot.name || "dagbot", bot: true };
  const u = (st.users || []).find((x) => x.id === id);
  return u ? { name: u.name, title: u.title } : { name: id || "unknown" };
}
function channelName(id) {
  if (isDm(id)) return S.state?.bot?.name || "dagbot";
  return (S.state?.channels || []).find((c) => c.id === id)?.name || id;
}
/** The person's DM with the app: their agent conversation (threads with a session status). */
function isDm(id) { return (S.state?.dms || []).some((d) => d.id === id); }
function myDm() { return (S.state?.dms || []).find((d) => d.user === S.user)?.id ?? null; }
function channelLabel(id) { return isDm(id) ? channelName(id) : `#${channelName(id)}`; }
function mention(id, label) {
  const me = id === S.user;
  return h("span", { class: "mention" + (me ? " me" : ""), title: id }, "@" + (label?.replace(/^@/, "") || userInfo(id).name));
}
function avatar(id, small) {
  const info = userInfo(id);
  if (info.bot) return h("div", { class: "avatar bot" + (small ? " small" : ""), title: info.name }, robotIcon());
  let hash = 0;
  for (const c of String(id)) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
  const a = h("div", { class: "avatar" + (small ? " small" : ""), title: info.name }, (info.name[0] || "?").toUpperCase());
  a.style.background = PALETTE[hash % PALETTE.length];
  return a;
}

/** Small robot face as inline SVG (no emoji font needed). */
function robotIcon() {
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", "robot");
  for (const [tag, a] of [["line", { x1: 12, y1: 2.5, x2: 12, y2: 6, stroke: "#fff", "stroke-width": 1.6 }],
    ["circle", { cx: 12, cy: 2.5, r: 1.6, fill: "#fff" }],
    ["rect", { x: 4, y: 6, width: 16, height: 13, rx: 3.5, fill: "#fff" }],
    ["circle", { cx: 9, cy: 12, r: 1.8, fill: "#4a154b" }], ["circle", { cx: 15, cy: 12, r: 1.8, fill: "#4a154b" }],
    ["rect", { x: 9, y: 15.5, width: 6, height: 1.4, rx: 0.7, fill: "#4a154b" }]]) {
    const n = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(a)) n.setAttribute(k, v);
    svg.append(n);
  }
  return svg;
}

/** A stream open for a long time is not being written all that time (a plan's stream stays open
 * while the run waits for an approval): "is writing…" shows only while its content keeps coming. */
const WRITING_MS = 3000;
const isWriting = (m) => Date.now() - (S.grew.get(`${m.channel}|${m.ts}`) ?? 0) < WRITING_MS;
function grew(m) {
  const key = `${m.channel}|${m.ts}`;
  S.grew.set(key, Date.now());
  clearTimeout(S.grewTimers.get(key));
  S.grewTimers.set(key, setTimeout(() => { S.grewTimers.delete(key); renderMessages(); }, WRITING_MS + 50));
}

/** One message (or ephemeral) row. opts: {inThread, ephemeral, replies} */
function messageEl(m, opts = {}) {
  const sender = opts.ephemeral ? botId() : m.user;
  const info = userInfo(sender);
  const isBot = opts.ephemeral || m.bot || info.bot;
  const sec = tsNum(m.ts);
  const ctx = { channel: m.channel, ts: m.ts };
  const body = m.blocks && m.blocks.length ? renderBlocks(m.blocks, ctx) : [mrkdwn(m.text)];
  if (m.edited) { // Slack puts "(edited)" right after the text
    const tail = h("span", { class: "edited", "data-testid": "edited" }, " (edited)");
    const last = body[body.length - 1];
    if (last && last.classList?.contains("mrkdwn")) last.append(tail); else body.push(tail);
  }
  if (m.streaming && isWriting(m)) { // a stream that grew a moment ago: the bot is writing it now
    body.push(h("div", { class: "writing", "data-testid": "writing" },
      h("span", { class: "writing-dot", "aria-hidden": "true" }), `${info.name} is writing…`));
  }
  const row = h("div", {
    class: "msg" + (opts.ephemeral ? " ephemeral" : "") + (isBot ? " from-bot" : ""),
    "data-testid": opts.ephemeral ? "ephemeral" : "message", "data-ts": m.ts, "data-user": m.user,
    "aria-busy": m.streaming ? "true" : null,
  },
  avatar(sender),
  h("div", { class: "msg-content" },
    opts.ephemeral && h("div", { class: "only-you" }, "Only visible to you",
      m.thread_ts && !opts.inThread && h("span", { class: "muted" }, " · in a thread")),
    h("div", { class: "msg-head" },
      h("span", { class: "msg-name" }, info.name),
      isBot && h("span", { class: "app-tag" }, "APP"),
      h("span", { class: "msg-time", title: fullTime(sec) }, hhmm(sec))),
    h("div", { class: "msg-body" }, body),
    opts.ephemeral && h("a", { class: "dismiss", href: "#", "data-testid": "dismiss",
      onclick: (ev) => { ev.preventDefault(); S.dismissed.add(m.id); renderMessages(); } }, "Dismiss"),
    opts.replies && repliesRow(m, opts.replies)));
  if (!opts.inThread && !opts.ephemeral) {
    row.append(h("div", { class: "msg-actions" },
      h("button", { class: "icon-btn", "data-testid": "reply-in-thread", title: "Reply in thread", onclick: () => openThread(m.ts) }, "↳ Reply in thread")));
  }
  const key = `${m.channel}|${m.ts}`;
  if (S.fresh.has(key)) row.classList.add("fresh");
  return row;
}

function repliesRow(root, replies) {
  const people = [...new Set(replies.map((r) => r.user))].slice(0, 4);
  const last = replies[replies.length - 1];
  return h("div", { class: "replies" },
    people.map((u) => avatar(u, true)),
    h("a", { href: "#", class: "replies-link", "data-testid": "replies-link",
      onclick: (ev) => { ev.preventDefault(); openThread(root.ts); } },
    `${replies.length} ${replies.length === 1 ? "reply" : "replies"}`),
    h("span", { class: "muted" }, `Last reply ${hhmm(tsNum(last.ts))}`));
}

/* ------------------------------------------------------------------ 5. views */

const isRoot = (m) => !m.thread_ts || m.thread_ts === m.ts;
const byTs = (a, b) => tsNum(a.ts) - tsNum(b.ts);
const myEphemerals = () => (S.state.ephemerals || []).filter((e) => e.user === S.user && !S.dismissed.has(e.id));

/** Re-render a scrolling list, staying at the bottom if the user was there. Rows that look the
 * same stay the same elements: progress edits arrive many times a second, and a click whose press
 * and release land on two different elements (the row rebuilt in between) is no click at all. */
function fillScroller(el, nodes) {
  const atBottom = S.forceBottom || sticksToBottom(el);
  const top = el.scrollTop;
  nodes.forEach((node, i) => {
    const current = el.children[i];
    if (!current) el.append(node);
    else if (current.outerHTML !== node.outerHTML) current.replaceWith(node);
  });
  while (el.children.length > nodes.length) el.lastElementChild.remove();
  el.scrollTop = atBottom ? el.scrollHeight : top;
}

function renderMessages() { renderChannel(); renderThread(); S.fresh.clear(); S.forceBottom = false; }

/** Whether a scrolling list follows its newest message: it did when the person last scrolled it
 * (or never did). Measured at each render instead, a pane that narrowed (a thread opening beside
 * it) or grew taller rows would count as scrolled up, and new messages would go by unseen. */
const STICKY = new WeakMap();
function sticksToBottom(el) {
  if (!STICKY.has(el)) {
    STICKY.set(el, true);
    el.addEventListener("scroll", () => STICKY.set(el, el.scrollHeight - el.scrollTop - el.clientHeight < 40));
    new ResizeObserver(() => { if (STICKY.get(el)) el.scrollTop = el.scrollHeight; }).observe(el);
  }
  return STICKY.get(el);
}

/** In the app's page (the DM), its tabs: Messages (the agent conversation) or Home (the view the app published). */
const onHome = () => isDm(S.channel) && S.appTab === "home";
function renderAppTabs() {
  const dm = isDm(S.channel), home = onHome();
  $("#app-tabs").hidden = !dm;
  document.querySelectorAll("#app-tabs .app-tab").forEach((t) => {
    const active = t.dataset.appTab === (home ? "home" : "messages");
    t.classList.toggle("active", active);
    t.setAttribute("aria-selected", active ? "true" : "false");
  });
  $("#channel-messages").hidden = home;
  $("#channel-composer").hidden = home;
  $("#home-view").hidden = !home;
  if (home) renderHome();
}
function renderHome() {
  const el = $("#home-view"), view = (S.state.homes || {})[S.user];
  const sig = view ? view.id : "";
  if (el.dataset.sig === sig && el.childElementCount) return; // the same view: keep it (and a click's press)
  el.dataset.sig = sig;
  el.replaceChildren(...(view ? renderBlocks(view.blocks, { viewId: view.id })
    : [h("div", { class: "empty" }, `Opening ${S.state.bot?.name || "dagbot"}'s Home…`)]));
}
/** Opening the Home tab is what Slack tells the app (app_home_opened): the app publishes the view. */
async function openHome() {
  S.appTab = "home"; renderAppTabs();
  const r = await post("/ui/home", { user: S.user });
  if (!r.ok) toast("error", "Could not open Home", r.error || "");
}

function renderChannel() {
  const ch = S.channel, msgs = S.state.messages || [];
  const name = channelName(ch);
  const dm = isDm(ch);
  renderAppTabs();
  $("#channel-title").textContent = dm ? name : `# ${name}`;
  $("#composer").placeholder = dm ? `Message ${name} — ask for anything` : `Message #${name} — try /agent …`;
  const replies = {};
  for (const m of msgs) if (m.channel === ch && !isRoot(m)) (replies[m.thread_ts] ||= []).push(m);
  const items = msgs.filter((m) => m.channel === ch && isRoot(m)).map((m) => ({ m }));
  for (const e of myEphemerals()) {
    // Thread ephemerals go to the thread pane when that thread is open, else stay visible here.
    if (e.channel === ch && !(e.thread_ts && e.thread_ts === S.thread)) items.push({ m: e, ephemeral: true });
  }
  items.sort((a, b) => byTs(a.m, b.m));
  const nodes = [h("div", { class: "channel-intro" },
    h("div", { class: "intro-title" }, dm ? name : `# ${name}`),
    h("div", { class: "muted" }, dm
      ? `Your agent conversation with ${name}: each request is a thread of its own, with its status and a Stop button while ${name} works on it.`
      : `This is the very beginning of #${name}. Talk to the bot with /agent … or @${S.state.bot?.name || "dagbot"}, or click an example below.`))];
  let lastDay = null;
  for (const it of items) {
    const day = dayLabel(tsNum(it.m.ts));
    if (day !== lastDay) { nodes.push(h("div", { class: "day-divider" }, h("span", {}, day))); lastDay = day; }
    const rs = it.ephemeral ? null : (replies[it.m.ts] || []).sort(byTs);
    nodes.push(messageEl(it.m, { ephemeral: it.ephemeral, replies: rs && rs.length ? rs : null }));
  }
  fillScroller($("#channel-messages"), nodes);
}

function renderThread() {
  const pane = $("#thread-pane");
  pane.hidden = !S.thread;
  if (!S.thread) return;
  const ch = S.channel, t = S.thread, msgs = S.state.messages || [];
  $("#thread-channel").textContent = channelLabel(ch);
  renderSession(ch, t);
  const root = msgs.find((m) => m.channel === ch && m.ts === t);
  const items = msgs.filter((m) => m.channel === ch && m.thread_ts === t && m.ts !== t).map((m) => ({ m }));
  const count = items.length;
  for (const e of myEphemerals()) if (e.channel === ch && e.thread_ts === t) items.push({ m: e, ephemeral: true });
  items.sort((a, b) => byTs(a.m, b.m));
  const nodes = [];
  if (root) nodes.push(messageEl(root, { inThread: true }));
  nodes.push(h("div", { class: "thread-sep" }, h("span", {}, `${count} ${count === 1 ? "reply" : "replies"}`)));
  for (const it of items) nodes.push(messageEl(it.m, { inThread: true, ephemeral: it.ephemeral }));
  fillScroller($("#thread-messages"), nodes);
}

/** The thread's agent session as Slack shows it: its status and title, and Stop while it works. */
function renderSession(ch, t) {
  const bar = $("#session-bar");
  const session = (S.state.sessions || []).find((x) => x.channel === ch && x.thread_ts === t);
  bar.hidden = !session;
  if (!session) return;
  bar.dataset.status = session.status;
  // (replaceChildren writes any value it is given, `false` too: only nodes go in)
  bar.replaceChildren(...[
    h("span", { class: `session-status ${session.status}`, "data-testid": "session-status" }, session.status),
    h("span", { class: "session-title", title: session.title || "" }, session.title || ""),
    session.status === "processing" ? h("button", {
      class: "session-stop", "data-testid": "session-stop", title: `Stop ${S.state.bot?.name || "dagbot"}`,
      onclick: (e) => stopSession(e.currentTarget, ch, t),
    }, "■ Stop") : null].filter(Boolean));
}

async function stopSession(btn, channel, thread_ts) {
  btn.disabled = true;
  const r = await post("/ui/stop", { user: S.user, channel, thread_ts });
  if (r && !r.ok && r.error) toast("warn", r.error);
}

function openThread(ts) { S.thread = ts; S.forceBottom = true; renderMessages(); $("#thread-composer").focus(); }
function closeThread() { S.thread = null; renderMessages(); }

function renderSidebar() {
  const st = S.state;
  $("#ws-name").textContent = st.workspace_name || "dagbot playground";
  $("#channel-list").replaceChildren(...(st.channels || []).map((c) => h("li", {
    class: "channel" + (c.id === S.channel ? " active" : ""), "data-testid": `channel-${c.name}`,
    onclick: () => { if (S.channel !== c.id) { S.channel = c.id; S.thread = null; S.forceBottom = true; renderSidebar(); renderMessages(); } },
  }, h("span", { class: "hash" }, "#"), c.name)));
  const dm = myDm();
  $("#dm-list").replaceChildren(...(dm ? [h("li", {
    class: "channel" + (dm === S.channel ? " active" : ""), "data-testid": "dm-app",
    onclick: () => { if (S.channel !== dm) { S.channel = dm; S.thread = null; S.forceBottom = true; renderSidebar(); renderMessages(); } },
  }, h("span", { class: "hash" }, "◆"), st.bot?.name || "dagbot")] : []));
  // Rebuild the picker only when the user list changes (keeps an open dropdown stable).
  const picker = $("#user-picker"), sig = JSON.stringify(st.users || []);
  if (picker.dataset.sig !== sig) {
    picker.replaceChildren(...(st.users || []).map((u) => h("option", { value: u.id }, u.title ? `${u.name} — ${u.title}` : u.name)));
    picker.dataset.sig = sig;
  }
  picker.value = S.user;
  const alerts = st.alerts || {};
  $("#alert-section").hidden = !alerts.hook;
  $("#alert-resolve").hidden = !alerts.firing;
  $("#alert-fire").textContent = alerts.firing ? "🚨 Fire another" : "🚨 Fire a test alert";
  const rl = st.rate_limit || {};
  $("#rate-limit").checked = !!rl.on;
  $("#rate-info").textContent = rl.on || rl.refused ? `${rl.refused || 0} call(s) answered "ratelimited" so far` : "";
  const model = st.model || {};
  const badge = $("#model-badge");
  badge.className = "model-badge" + (model.demo ? " demo" : "");
  badge.replaceChildren(...(model.demo
    ? [h("div", { class: "badge-label" }, "⚠ Demo model"), h("div", { class: "badge-note" }, model.note || "")]
    : [h("div", { class: "badge-label" }, `Model: ${model.name || "unknown"}`), model.note ? h("div", { class: "badge-note" }, model.note) : null].filter(Boolean)));
  const refs = (st.refusals || []).slice().reverse();
  $("#refusal-count").textContent = refs.length ? String(refs.length) : "";
  $("#refusal-list").replaceChildren(...(refs.length ? refs.slice(0, 50).map((r) => h("li", { class: "refusal", "data-testid": "refusal", title: r.detail || "" },
    h("div", {}, h("span", { class: "ref-method" }, r.method), " → ", h("span", { class: "ref-error" }, r.error)),
    r.detail && h("div", { class: "ref-detail" }, r.detail),
    r.at && h("div", { class: "ref-time" }, hhmm(r.at)))) : [h("li", { class: "side-note" }, "Nothing refused yet.")]));
}

function renderExamples() {
  $("#examples").replaceChildren(...(S.state.examples || []).map((ex) => h("button", {
    class: "chip" + (ex.in_thread ? " in-thread" : ""), type: "button", "data-testid": `example-${ex.key}`,
    title: (ex.in_thread ? "Sends in the open thread: " : "Sends in the channel: ") + ex.text, onclick: () => runExample(ex),
  }, ex.in_thread && h("span", { class: "chip-icon" }, "↳"), ex.title)));
}

/* --- dev panel: mail sink + workspace files --- */
function renderPanel() {
  const st = S.state, mail = (st.mail || []).slice().reverse(), files = (st.workspace || {}).files || [];
  $("#mail-count").textContent = String(mail.length);
  $("#files-count").textContent = String(files.length);
  $("#schedules-count").textContent = String(S.schedules.length);
  $("#ws-root").textContent = S.tab === "files" && st.workspace?.root ? st.workspace.root : "";
  const panel = $("#devpanel");
  panel.classList.toggle("collapsed", !S.panelOpen);
  $("#panel-toggle").textContent = S.panelOpen ? "▾" : "▴";
  document.querySelectorAll("#devpanel .tab").forEach((t) => t.classList.toggle("active", S.panelOpen && t.dataset.tab === S.tab));
  const body = $("#panel-body");
  if (S.tab === "schedules") {
    body.replaceChildren(renderSchedules());
  } else if (S.tab === "mail") {
    body.replaceChildren(mail.length ? h("div", { class: "mail-list" }, mail.map((m) => h("article", {
      class: "mail-item" + (S.freshMail.has(m.id) ? " fresh" : ""), "data-testid": "mail-item" },
    h("div", { class: "mail-subject" }, m.subject || "(no subject)"),
    h("div", { class: "mail-meta" }, `From ${m.from} → ${[].concat(m.to || []).join(", ")}`, h("span", { class: "muted" }, m.at ? ` · ${fullTime(m.at)}` : "")),
    h("pre", { class: "mail-body" }, m.body || "")))) : h("div", { class: "empty" }, "No mail sent yet. Mail the bot sends lands here."));
    S.freshMail.clear();
  } else {
    const sel = files.find((f) => f.path === S.filePath);
    body.replaceChildren(files.length ? h("div", { class: "files" },
      h("ul", { class: "file-list" }, files.map((f) => h("li", {
        class: "file-item" + (f === sel ? " selected" : "") + (S.freshFiles.has(f.path) ? " fresh" : ""), "data-testid": "file-item",
        onclick: () => { S.filePath = f.path; renderPanel(); },
      }, h("span", { class: "file-path" }, f.path), h("span", { class: "muted" }, `${humanSize(f.size)} · ${f.modified ? fullTime(f.modified) : ""}`)))),
      h("div", { class: "file-preview" }, sel
        ? [h("div", { class: "preview-title" }, sel.path), h("pre", { "data-testid": "file-preview" }, sel.preview ?? "(no preview)")]
        : h("div", { class: "empty" }, "Click a file to preview it."))) : h("div", { class: "empty" }, "The bot's workspace is empty."));
    S.freshFiles.clear();
  }
}
/** The schedules (the bot's tables, read by the playground): each with its next run and the threads its firings opened. */
function renderSchedules() {
  if (!S.schedules.length) return h("div", { class: "empty" }, "No schedules. Make one in #ops: /agent every 5 minutes <request> (it first runs 5 minutes later).");
  return h("ul", { class: "schedule-list" }, S.schedules.map((x) => h("li", { class: "schedule-item", "data-testid": "schedule" },
    h("div", {}, h("span", { class: "schedule-when" }, x.when), ` in #${channelName(x.channel)}, by ${userInfo(x.user).name}`,
      h("span", { class: "muted", "data-testid": "schedule-next" }, x.next ? ` · next run ${fullTime(x.next)}` : " · no next run")),
    h("div", { class: "schedule-request" }, unesc(x.request)),
    h("div", { class: "schedule-runs" }, h("span", { class: "muted" }, x.ticks.length ? "Runs (newest first):" : "No runs yet. Cancel it in dagbot's Home tab, or with /agent schedules."),
      x.ticks.map((t) => h("button", {
        class: "schedule-run", type: "button", "data-testid": "schedule-run", disabled: !t.ts,
        title: t.missed ? `stands for ${t.missed} missed run(s) too` : "open its thread",
        onclick: () => openThreadIn(x.channel, t.ts),
      }, `${hhmm(t.fire_time)}${t.missed ? ` (+${t.missed} missed)` : ""}${t.done ? "" : " …"}`))))));
}
async function loadSchedules() {
  try {
    const r = await (await fetch("/ui/schedules", { cache: "no-store" })).json();
    S.schedules = r.schedules || [];
  } catch (e) { console.error("schedules load failed", e); return; }
  renderPanel();
}
let schedulesTimer = null;
/** Schedules change with what the bot says: a confirmation or a cancel (ephemeral), a firing's root message. */
function schedulesSoon() { clearTimeout(schedulesTimer); schedulesTimer = setTimeout(loadSchedules, 300); }
function openThreadIn(channel, ts) {
  if (!ts) return;
  S.channel = channel; renderSidebar(); openThread(ts);
}

/** The sidebar's test alert: Alertmanager's notification to the playground's hook; its thread opens. */
async function testAlert(action, btn) {
  btn.disabled = true;
  const r = await post("/ui/alert", { action });
  btn.disabled = false;
  if (!r.ok) { toast("error", action === "fire" ? "The test alert was not taken" : "Nothing resolved", r.error || (r.status ? `HTTP ${r.status} ${r.outcome || ""}` : "")); return; }
  $("#alert-info").textContent = `POST /hooks/alertmanager → ${r.status} ${r.outcome || ""}`;
  if (r.channel && r.ts) openThreadIn(r.channel, r.ts);
}

/** Briefly highlight a tab whose content changed. */
function flashTab(id) {
  const t = $(id);
  t.classList.remove("flash"); void t.offsetWidth; t.classList.add("flash");
}

/* --- modal --- */
function topView() {
  const vs = (S.state.views || []).filter((v) => v.user === S.user);
  return vs[vs.length - 1] || null;
}
function renderModal() {
  const v = topView(), root = $("#modal-root");
  const sig = v ? v.id + JSON.stringify(v.view) : "";
  if (sig === S.modalSig) return; // unchanged: keep what the user typed
  // Preserve typed values across view_update (same block_id/action_id), like Slack.
  const values = v && v.id === S.modalId ? collectValues() : {};
  S.modalSig = sig;
  S.modalId = v ? v.id : null;
  if (!v) { root.replaceChildren(); return; }
  const view = v.view || {};
  const err = h("div", { class: "modal-error", "data-testid": "modal-error" });
  const submit = h("button", { class: "bk-btn primary", "data-testid": "modal-submit", type: "button", onclick: () => submitModal(v, submit, err) }, plainText(view.submit?.text || "Submit"));
  const close = () => closeModal(v);
  root.replaceChildren(h("div", { class: "modal-backdrop", onclick: (e) => { if (e.target === e.currentTarget) close(); } },
    h("div", { class: "modal", role: "dialog", "aria-modal": "true", "data-testid": "modal", "data-view-id": v.id },
      h("header", {}, h("div", { class: "modal-title" }, plainText(view.title?.text || "")),
        h("button", { class: "icon-btn", "data-testid": "modal-x", "aria-label": "Close", onclick: close }, "×")),
      h("div", { class: "modal-body" }, renderBlocks(view.blocks, { inModal: true, viewId: v.id, values })),
      h("footer", {}, err,
        h("button", { class: "bk-btn default", "data-testid": "modal-close", type: "button", onclick: close }, plainText(view.close?.text || "Cancel")),
        submit))));
  root.querySelector(".bk-input")?.focus();
}
/** An input's value as Slack reads it: the text, the chosen option's value ("" for none), or the ticked boxes' values. */
function inputValue(c) {
  if (c.dataset.kind === "radio_buttons") return c.querySelector("input:checked")?.value ?? "";
  if (c.dataset.kind === "checkboxes") return [...c.querySelectorAll("input:checked")].map((x) => x.value);
  return c.value;
}
function collectValues() {
  const values = {};
  document.querySelectorAll("#modal-root [data-block-id][data-action-id]").forEach((c) => {
    (values[c.dataset.blockId] ||= {})[c.dataset.actionId] = inputValue(c);
  });
  return values;
}
/** Slack's client submits no modal with a required input left empty: it says so beside the input. */
function missingRequired() {
  let missing = false;
  document.querySelectorAll("#modal-root [data-required='1']").forEach((c) => {
    const v = inputValue(c);
    if (Array.isArray(v) ? v.length : String(v).trim()) return;
    const e = c.closest("[data-input-block]")?.querySelector(".input-error");
    if (e) { e.textContent = "Please complete this required field."; e.hidden = false; }
    missing = true;
  });
  return missing;
}
async function submitModal(v, btn, errEl) {
  document.querySelectorAll("#modal-root .input-error").forEach((e) => { e.hidden = true; e.textContent = ""; });
  errEl.textContent = "";
  if (missingRequired()) return;
  setBusy(btn, true);
  const r = await post("/ui/view_submit", { user: S.user, view_id: v.id, values: collectValues() });
  setBusy(btn, false);
  if (r.ok) return; // the server follows up with view_close / view_update over SSE
  for (const [bid, msg] of Object.entries(r.errors || {})) {
    const e = document.querySelector(`#modal-root [data-input-block="${CSS.escape(bid)}"] .input-error`);
    if (e) { e.textContent = msg; e.hidden = false; } else errEl.textContent += `${bid}: ${msg} `;
  }
  if (!r.errors) errEl.textContent = r.error || "Submit failed";
}
async function closeModal(v) {
  const r = await post("/ui/view_close", { user: S.user, view_id: v.id });
  if (r.ok !== false) { S.state.views = (S.state.views || []).filter((x) => x.id !== v.id); renderModal(); }
  else toast("error", "Could not close the modal", r.error || "");
}

/* --- toasts --- */
function toast(kind, title, detail) {
  const t = h("div", { class: `toast ${kind}`, "data-testid": kind === "warn" ? "refusal-toast" : "error-toast", onclick: () => t.remove() },
    h("div", { class: "toast-title" }, title), detail && h("div", { class: "toast-detail" }, detail));
  $("#toasts").append(t);
  setTimeout(() => t.remove(), 8000);
}

/* ------------------------------------------------------------------ 6. state + SSE */

const S = {
  state: null, user: null, channel: null, thread: null, appTab: "messages",
  dismissed: new Set(), busy: new Set(), fresh: new Set(), freshMail: new Set(), freshFiles: new Set(),
  grew: new Map(), grewTimers: new Map(), // when each open stream last grew (the "is writing…" line)
  forceBottom: true, panelOpen: false, tab: "mail", filePath: null, modalSig: null, modalId: null, loadSeq: 0,
  sinceLoad: null, // events received while a state load is in flight: replayed if the snapshot lacks them
  opening: null, // {channel, request}: an example chip was clicked; its request's thread opens when it starts
  schedules: [], // /ui/schedules: loaded with the state, and again when the bot says something that may change them
};

function renderAll() { renderSidebar(); renderExamples(); renderMessages(); renderPanel(); renderModal(); }

async function loadState() {
  const seq = ++S.loadSeq;
  S.sinceLoad = [];
  let st;
  try { st = await (await fetch("/ui/state", { cache: "no-store" })).json(); } catch (e) {
    console.error("state load failed", e);
    if (seq === S.loadSeq) S.sinceLoad = null;
    return;
  }
  if (seq !== S.loadSeq) return; // a newer load is in flight
  for (const k of ["users", "channels", "dms", "sessions", "messages", "ephemerals", "views", "mail", "examples", "refusals"]) st[k] ||= [];
  st.homes ||= {};
  st.workspace ||= { root: "", files: [] };
  st.alerts ||= { hook: false, firing: false };
  st.bot ||= { user_id: "U0BOT", name: "dagbot" };
  S.state = st;
  // events published after the snapshot was taken but received before it: apply them again, quietly
  const missed = (S.sinceLoad || []).filter((ev) => (ev.seq ?? 0) > (st.seq ?? 0));
  S.sinceLoad = null;
  for (const ev of missed) applyEvent(ev, { replay: true });
  if (!st.users.some((u) => u.id === S.user)) S.user = st.users[0]?.id ?? null;
  if (!st.channels.some((c) => c.id === S.channel) && S.channel !== myDm()) S.channel = st.channels[0]?.id ?? null;
  renderAll();
  loadSchedules();
  document.body.dataset.ready = "1";
}

/** Replace the item matching `same` or append it. */
function upsert(list, item, same) {
  const i = list.findIndex(same);
  if (i >= 0) list[i] = item; else list.push(item);
}

function applyEvent(ev, { replay = false } = {}) {
  if (!replay && S.sinceLoad !== null) S.sinceLoad.push(ev);
  const st = S.state;
  if (!st) return; // the state fetch that follows `open` covers it, or replays it
  switch (ev.type) {
    case "message": {
      const m = ev.message, same = (x) => x.channel === m.channel && x.ts === m.ts;
      const before = st.messages.find(same);
      upsert(st.messages, m, same);
      // a stream growing or ending is no news: only its first appearance is highlighted
      if (!before?.streaming) S.fresh.add(`${m.channel}|${m.ts}`);
      if (m.streaming && (!before || before.text !== m.text || JSON.stringify(before.blocks) !== JSON.stringify(m.blocks))) grew(m);
      if (!before && isRoot(m) && (m.user === botId() || m.bot)) schedulesSoon();
      if (!before && !replay && startedByExample(m)) { S.opening = null; openThread(m.ts); break; }
      renderMessages(); break;
    }
    case "message_deleted": {
      st.messages = st.messages.filter((x) => !(x.channel === ev.channel && x.ts === ev.ts));
      if (S.channel === ev.channel && S.thread === ev.ts) S.thread = null; // its thread went with it
      renderMessages(); break;
    }
    case "ephemeral": upsert(st.ephemerals, ev.ephemeral, (x) => x.id === ev.ephemeral.id); schedulesSoon(); renderMessages(); break;
    case "alerts": st.alerts = ev.alerts; renderSidebar(); break;
    case "view_open": case "view_update": upsert(st.views, ev.view, (x) => x.id === ev.view.id); renderModal(); break;
    case "view_close": st.views = st.views.filter((x) => x.id !== ev.id); renderModal(); break;
    case "mail": upsert(st.mail, ev.mail, (x) => x.id === ev.mail.id); S.freshMail.add(ev.mail.id); flashTab("#mail-tab"); renderPanel(); break;
    case "workspace": {
      const old = new Map((st.workspace.files || []).map((f) => [f.path, f.modified]));
      st.workspace = ev.workspace || { root: "", files: [] };
      for (const f of st.workspace.files || []) if (old.get(f.path) !== f.modified) S.freshFiles.add(f.path);
      if (S.freshFiles.size) flashTab("#files-tab");
      renderPanel(); break;
    }
    case "refusal": {
      const r = ev.refusal;
      st.refusals.push(r);
      if (!replay) toast("warn", `Slack refused ${r.method}: ${r.error}`, r.detail);
      renderSidebar(); break;
    }
    case "rate_limit": st.rate_limit = ev.rate_limit; renderSidebar(); break;
    case "home": (st.homes ||= {})[ev.user] = ev.view; if (onHome()) renderHome(); break;
    case "agent_session": {
      const x = ev.session;
      upsert(st.sessions, x, (y) => y.channel === x.channel && y.thread_ts === x.thread_ts);
      renderThread(); break;
    }
    default: console.debug("unknown event", ev);
  }
}

function connect() {
  const es = new EventSource("/ui/events");
  const conn = $("#conn");
  es.addEventListener("open", () => { conn.className = "conn live"; conn.title = "Live"; loadState(); });
  es.addEventListener("error", () => { conn.className = "conn down"; conn.title = "Reconnecting…"; });
  es.addEventListener("message", (e) => {
    try { applyEvent(JSON.parse(e.data)); } catch (err) { console.error("bad event", e.data, err); }
  });
}

/* --- sending --- */
function showError(el, msg) { el.textContent = msg || ""; el.hidden = !msg; }

async function send(text, threadTs, errEl) {
  showError(errEl, "");
  const body = { user: S.user, channel: S.channel, text };
  if (threadTs) body.thread_ts = threadTs;
  S.forceBottom = true;
  // what is sent, and what answers it, are followed to the bottom (not only at the next render,
  // which a busy thread's edits may take before the bot's reply arrives)
  STICKY.set(threadTs ? $("#thread-messages") : $("#channel-messages"), true);
  const r = await post("/ui/send", body);
  if (!r.ok) showError(errEl, r.error || "Could not send the message");
  return r;
}

function wireComposer(ta, btn, errEl, threadOf) {
  const autosize = () => { ta.style.height = "auto"; ta.style.height = Math.min(ta.scrollHeight, 200) + "px"; };
  const go = async () => {
    const text = ta.value;
    if (!text.trim() || btn.disabled) return;
    ta.value = ""; autosize(); btn.disabled = true; // clear at once like Slack; restore on failure
    const r = await send(text, threadOf(), errEl);
    btn.disabled = false;
    if (!r.ok && !ta.value) { ta.value = text; autosize(); }
    ta.focus();
  };
  ta.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); go(); }
  });
  ta.addEventListener("input", autosize);
  btn.addEventListener("click", go);
}

let hintTimer = null;
function hint(msg) {
  const el = $("#example-hint");
  el.textContent = msg; el.hidden = false;
  clearTimeout(hintTimer);
  hintTimer = setTimeout(() => { el.hidden = true; }, 5000);
}

/** The bot's root message of the request an example chip just sent (its thread is opened). */
function startedByExample(m) {
  const o = S.opening;
  if (!o || m.channel !== o.channel || m.channel !== S.channel || !isRoot(m) || !(m.user === botId() || m.bot)) return false;
  const said = unesc(m.text || "") + " " + JSON.stringify(m.blocks || []);
  return !!o.request && said.includes(o.request.slice(0, 40));
}

/** Example chips: channel examples post in the channel; thread ones go to the open (or newest bot) thread. */
async function runExample(ex) {
  if (!ex.in_thread) {
    S.opening = { channel: S.channel, request: ex.request }; // its thread opens when the bot posts its root
    const r = await send(ex.text, null, $("#composer-error"));
    if (!r.ok) S.opening = null;
    return r;
  }
  if (!S.thread) {
    const roots = S.state.messages.filter((m) => m.channel === S.channel && isRoot(m) && (m.user === botId() || m.bot)).sort(byTs);
    if (!roots.length) { hint("Start a request first — send one of the channel examples, then try this."); return; }
    openThread(roots[roots.length - 1].ts);
  }
  return send(ex.text, S.thread, $("#thread-error"));
}

function init() {
  wireComposer($("#composer"), $("#send"), $("#composer-error"), () => null);
  wireComposer($("#thread-composer"), $("#thread-send"), $("#thread-error"), () => S.thread);
  $("#thread-close").addEventListener("click", closeThread);
  document.querySelectorAll("#app-tabs .app-tab").forEach((t) => t.addEventListener("click", () => {
    if (t.dataset.appTab === "home") openHome(); else { S.appTab = "messages"; S.forceBottom = true; renderMessages(); }
  }));
  $("#user-picker").addEventListener("change", (e) => {
    const inDm = isDm(S.channel);
    S.user = e.target.value; S.modalSig = null;
    if (inDm) { S.channel = myDm(); S.thread = null; } // each person has their own conversation with the app
    renderSidebar(); renderMessages(); renderModal();
    if (onHome()) openHome(); // each person has their own Home
  });
  $("#rate-limit").addEventListener("change", async (e) => {
    const on = e.target.checked;
    const r = await post("/ui/rate_limit", { on });
    if (!r.ok) { e.target.checked = !on; toast("error", "Could not switch rate limiting", r.error || ""); } else if (S.state) {
      S.state.rate_limit = { ...(S.state.rate_limit || {}), on }; renderSidebar();
    }
  });
  document.querySelectorAll("#devpanel .tab").forEach((t) => t.addEventListener("click", () => {
    S.tab = t.dataset.tab; S.panelOpen = true; renderPanel();
    if (S.tab === "schedules") loadSchedules(); // (their next runs move on)
  }));
  $("#panel-toggle").addEventListener("click", () => { S.panelOpen = !S.panelOpen; renderPanel(); });
  $("#alert-fire").addEventListener("click", (e) => testAlert("fire", e.currentTarget));
  $("#alert-resolve").addEventListener("click", (e) => testAlert("resolve", e.currentTarget));
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape") return;
    const v = S.state && topView();
    if (v) closeModal(v); else if (S.thread) closeThread();
  });
  loadState();
  connect();
}

document.addEventListener("DOMContentLoaded", init);
