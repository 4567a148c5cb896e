/* Feishu (Lark) interactive cards, JSON 2.0, drawn as DOM — close enough to judge a card as Feishu shows it.

   FeishuCards.render(card, {names, onAction, onOpenUrl, me, locale}) -> HTMLElement (class "fc-card")
   FeishuCards.renderMarkdown(text, names) -> HTMLElement (class "fc-markdown")

   Every string from the card is put into the page with textContent / createTextNode: markdown is parsed here
   into elements, and HTML entities (&lt; &#35; ...) are decoded to the characters they stand for, so they show
   as literal text and never become markup, a mention, a link or formatting. Nothing is fetched from the
   network (images are placeholder boxes). render() never throws: a component that cannot be drawn becomes a
   labelled error box, an unknown tag a dashed "Unsupported component" box. Plain browser JS, no build step. */
(function () {
  "use strict";

  // ---- DOM helpers -------------------------------------------------------------------------------------------
  function h(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null && text !== "") node.textContent = String(text);
    return node;
  }
  function isObj(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }
  function str(v) { return v === undefined || v === null ? "" : String(v); }
  function list(v) { return Array.isArray(v) ? v : []; }

  // ---- values: spacing, sizes, colours -------------------------------------------------------------------------
  const SPACING = { small: "4px", medium: "8px", large: "12px", extra_large: "16px" };
  const PX = /^-?\d+(?:\.\d+)?px$/;

  function spacing(value, fallback) {
    if (typeof value === "number" && isFinite(value)) return value + "px";
    if (typeof value === "string") {
      if (SPACING[value]) return SPACING[value];
      if (PX.test(value.trim())) return value.trim();
    }
    return fallback;
  }
  function box(value) {  // "4px" | "4px 8px" | "4px 8px 4px 8px" -> the same string, or "" if malformed
    if (typeof value !== "string") return "";
    const parts = value.trim().split(/\s+/);
    return parts.length >= 1 && parts.length <= 4 && parts.every((p) => PX.test(p) || p === "0") ? parts.join(" ") : "";
  }
  function pxOrPercent(value) {
    return typeof value === "string" && /^\d+(?:\.\d+)?(px|%)$/.test(value.trim()) ? value.trim() : "";
  }

  // Feishu's colour enum: a hue name with an optional shade, "blue-50" (block background), "blue-100" (tag
  // background), "blue-500" (text) ... "blue-900"; a bare name is its -600. Greys run from grey-00 to grey-1000.
  // As a background (background_style, background_color) a bare name means the hue's light tint.
  const HUES = {  // [-500, -600]
    blue: ["#3370ff", "#245bdb"], wathet: ["#14c0ff", "#049fd7"], turquoise: ["#2dbeab", "#04a38f"],
    green: ["#34c724", "#2ea121"], lime: ["#b3d600", "#8fac02"], yellow: ["#ffc60a", "#dc9b04"],
    sunflower: ["#fad355", "#e5bc00"], orange: ["#ff8800", "#de7802"], red: ["#f54a45", "#d83931"],
    carmine: ["#f01d94", "#c71077"], violet: ["#d136d1", "#b220b2"], purple: ["#7f3bf5", "#6425d0"],
    indigo: ["#4954e6", "#3c47c9"],
  };
  const GREYS = {
    0: "#ffffff", 50: "#f5f6f7", 100: "#f2f3f5", 150: "#eff0f1", 200: "#eff0f1", 300: "#dee0e3", 350: "#d0d3d6",
    400: "#bbbfc4", 500: "#8f959e", 600: "#646a73", 650: "#51565d", 700: "#373c43", 800: "#2b2f36", 900: "#1f2329",
    950: "#0f1115", 1000: "#000000",
  };
  const NAMED_COLORS = { default: "#1f2329", black: "#1f2329", white: "#ffffff", "bg-white": "#ffffff", neutral: "#646a73" };
  const TINTS = {  // bare names as backgrounds
    default: "", grey: "#f2f3f5", gray: "#f2f3f5", neutral: "#eff0f1", white: "#ffffff", "bg-white": "#ffffff",
    blue: "#e1eaff", wathet: "#d9f3fd", turquoise: "#d5f6f2", green: "#d9f5d6", lime: "#eef6c6", yellow: "#faf1d1",
    sunflower: "#fdf6d8", orange: "#feead2", red: "#fde2e2", carmine: "#fddded", violet: "#f8def8",
    purple: "#ece2fe", indigo: "#e0e3fd",
  };
  const CSS_COLOR = /^(#[0-9a-fA-F]{3,8}|rgba?\(\s*[\d.]+%?\s*,\s*[\d.]+%?\s*,\s*[\d.]+%?\s*(,\s*[\d.]+%?\s*)?\))$/;

  function mix(hex, other, amount) {  // hex colours "#rrggbb"; amount of `other` in [0, 1]
    const a = parseInt(hex.slice(1), 16);
    const b = parseInt(other.slice(1), 16);
    const channel = (shift) => Math.round(((a >> shift) & 255) * (1 - amount) + ((b >> shift) & 255) * amount);
    return "#" + [16, 8, 0].map((shift) => channel(shift).toString(16).padStart(2, "0")).join("");
  }
  function shadeOf(hue, level) {
    if (hue === "grey" || hue === "gray") {
      const steps = Object.keys(GREYS).map(Number);
      const nearest = steps.reduce((best, x) => (Math.abs(x - level) < Math.abs(best - level) ? x : best), 600);
      return GREYS[nearest];
    }
    const tones = HUES[hue];
    if (!tones) return "";
    if (level <= 50) return mix(tones[0], "#ffffff", 0.9);
    if (level < 500) return mix(tones[0], "#ffffff", Math.max(0.1, 0.82 - (level / 500) * 0.75));
    if (level < 600) return tones[0];
    if (level < 700) return tones[1];
    return mix(tones[1], "#000000", Math.min(0.6, ((level - 600) / 100) * 0.15));
  }
  function baseColor(name) {
    const m = /^([a-z]+)(?:-\d+)?$/.exec(str(name).trim().toLowerCase());
    return m ? m[1] : "";
  }
  function customColor(name, ctx) {
    const entry = ctx && ctx.customColors && ctx.customColors[name];
    if (!isObj(entry)) return "";
    const value = str(entry.light_mode);
    return CSS_COLOR.test(value) ? value : "";
  }
  function color(name, ctx, asBackground) {
    const raw = str(name).trim();
    if (!raw) return "";
    const custom = customColor(raw, ctx);
    if (custom) return custom;
    if (CSS_COLOR.test(raw)) return raw;
    const key = raw.toLowerCase();
    const shaded = /^([a-z]+)-(\d{1,4})$/.exec(key);
    if (shaded && key !== "bg-white") return shadeOf(shaded[1], parseInt(shaded[2], 10));
    if (asBackground) return Object.prototype.hasOwnProperty.call(TINTS, key) ? TINTS[key] : "";
    if (NAMED_COLORS[key]) return NAMED_COLORS[key];
    return shadeOf(key, 600);
  }
  function textColor(name, ctx) { return color(name, ctx, false); }
  function tintColor(name, ctx) {
    const raw = str(name).trim();
    return raw === "transparent" || raw === "laser" ? "" : color(raw, ctx, true);
  }

  // Border colour (a grey border is Feishu's light line grey), corner radius and background of a box.
  function decorate(node, ctx, borderColor, radius, background) {
    const line = borderColor ? textColor(borderColor, ctx) : "";
    if (line) node.style.borderColor = /^gr[ae]y$/.test(str(borderColor)) ? "#dee0e3" : line;
    const corner = pxOrPercent(radius);
    if (corner) node.style.borderRadius = corner;
    const bg = tintColor(background, ctx);
    if (bg) node.style.background = bg;
  }

  const TEXT_SIZES = {
    "heading-0": "30px", "heading-1": "24px", "heading-2": "20px", "heading-3": "18px", "heading-4": "16px",
    heading: "16px", normal: "14px", notation: "12px", "xxxx-large": "30px", "xxx-large": "24px",
    "xx-large": "20px", "x-large": "18px", large: "16px", medium: "14px", small: "12px", "x-small": "10px",
  };
  function textSize(name, ctx) {
    const custom = ctx && ctx.customSizes && ctx.customSizes[name];
    if (isObj(custom)) return TEXT_SIZES[custom.pc] || TEXT_SIZES[custom.default] || "";
    return TEXT_SIZES[name] || "";
  }
  function applyTextStyle(node, obj, ctx) {
    if (!isObj(obj)) return;
    const size = textSize(obj.text_size, ctx);
    if (size) node.style.fontSize = size;
    const color = textColor(obj.text_color, ctx);
    if (color) node.style.color = color;
    if (["left", "center", "right"].includes(obj.text_align)) node.style.textAlign = obj.text_align;
    const lines = Number(obj.lines);
    if (Number.isInteger(lines) && lines > 0) {
      node.classList.add("fc-clamp");
      node.style.webkitLineClamp = String(lines);
    }
  }

  // ---- text objects ---------------------------------------------------------------------------------------------
  // {tag: plain_text | lark_md | markdown, content, i18n_content}: content first, else the locale, else zh_cn.
  function contentOf(obj, ctx) {
    if (typeof obj === "string") return obj;
    if (!isObj(obj)) return "";
    if (typeof obj.content === "string" && obj.content !== "") return obj.content;
    const i18n = isObj(obj.i18n_content) ? obj.i18n_content : isObj(obj.i18n) ? obj.i18n : null;
    if (i18n) {
      for (const key of [ctx && ctx.locale, "zh_cn", "en_us"]) {
        if (key && typeof i18n[key] === "string") return i18n[key];
      }
      const first = Object.keys(i18n).find((k) => typeof i18n[k] === "string");
      if (first) return i18n[first];
    }
    return str(obj.content);
  }
  function isMarkdownText(obj) { return isObj(obj) && (obj.tag === "lark_md" || obj.tag === "markdown"); }

  // A text object as an element: plain_text literally, lark_md / markdown parsed.
  function renderTextObject(obj, ctx, cls, inlineOnly) {
    let node;
    if (isMarkdownText(obj)) {
      node = inlineOnly ? h("span", "fc-md-inline") : markdownBlocks(contentOf(obj, ctx), ctx);
      if (inlineOnly) node.appendChild(inline(contentOf(obj, ctx), ctx, 0));
    } else {
      node = h(inlineOnly ? "span" : "div", "fc-plain", contentOf(obj, ctx));
    }
    if (cls) node.classList.add(cls);
    applyTextStyle(node, obj, ctx);
    return node;
  }

  // ---- HTML entities: decoded to literal characters, never to markup ------------------------------------------
  const NAMED = {
    amp: "&", lt: "<", gt: ">", quot: "\"", apos: "'", nbsp: "\u00a0", ensp: "\u2002", emsp: "\u2003",
    thinsp: "\u2009", copy: "©", reg: "®", trade: "™", hellip: "…", mdash: "—", ndash: "–", lsquo: "‘",
    rsquo: "’", ldquo: "“", rdquo: "”", laquo: "«", raquo: "»", middot: "·", bull: "•", times: "×",
    divide: "÷", deg: "°", plusmn: "±", para: "¶", sect: "§", cent: "¢", pound: "£", yen: "¥", euro: "€",
    larr: "←", rarr: "→", uarr: "↑", darr: "↓", harr: "↔", le: "≤", ge: "≥", ne: "≠", asymp: "≈",
    infin: "∞", shy: "\u00ad", zwj: "\u200d", zwnj: "\u200c", lrm: "\u200e", rlm: "\u200f", num: "#",
    ast: "*", lowbar: "_", grave: "`", lsqb: "[", rsqb: "]", lpar: "(", rpar: ")", excl: "!", colon: ":",
    sol: "/", bsol: "\\", vert: "|", dollar: "$", plus: "+", tilde: "˜", hyphen: "‐", star: "☆", check: "✓",
  };
  const ENTITY = /&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([A-Za-z][A-Za-z0-9]{1,31}));/y;

  function entityAt(src, i) {  // [decoded text, length] or null
    ENTITY.lastIndex = i;
    const m = ENTITY.exec(src);
    if (!m) return null;
    if (m[3] !== undefined) return Object.prototype.hasOwnProperty.call(NAMED, m[3]) ? [NAMED[m[3]], m[0].length] : null;
    const code = m[1] !== undefined ? parseInt(m[1], 10) : parseInt(m[2], 16);
    const ok = code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff);
    return [ok ? String.fromCodePoint(code) : "\ufffd", m[0].length];
  }
  function decodeEntities(src) {
    const s = str(src);
    if (s.indexOf("&") < 0) return s;
    let out = "";
    for (let i = 0; i < s.length;) {
      if (s[i] === "&") {
        const e = entityAt(s, i);
        if (e) { out += e[0]; i += e[1]; continue; }
      }
      out += s[i];
      i += 1;
    }
    return out;
  }

  // ---- URLs -------------------------------------------------------------------------------------------------------
  function safeUrl(url) {
    const u = str(url).trim();
    return /^(https?:|mailto:|tel:|lark:|feishu:)/i.test(u) ? u : "";
  }
  function openUrl(ctx, url) {
    const safe = safeUrl(url);
    if (!safe) return;
    try {
      if (ctx.onOpenUrl) ctx.onOpenUrl(safe);
      else window.open(safe, "_blank", "noopener");
    } catch (err) {
      console.warn("FeishuCards: onOpenUrl failed", err);
    }
  }
  function urlOf(obj) {  // {url | default_url | pc_url | multi_url: {...}}
    if (!isObj(obj)) return "";
    return str(obj.default_url || obj.pc_url || obj.url || (isObj(obj.multi_url) && (obj.multi_url.pc_url || obj.multi_url.url)));
  }
  function makeLink(url, ctx, children) {
    const link = h("a", "fc-link");
    const safe = safeUrl(url);
    if (safe) {
      link.href = safe;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      link.addEventListener("click", (event) => {
        event.preventDefault();
        event.stopPropagation();
        openUrl(ctx, safe);
      });
    } else {
      link.classList.add("fc-link-inert");
    }
    link.appendChild(children);
    return link;
  }

  // ---- people -----------------------------------------------------------------------------------------------------
  function nameOf(id, ctx) {
    const names = (ctx && ctx.names) || {};
    if (id === "all") return typeof names.all === "string" ? names.all : (ctx && ctx.locale === "en_us" ? "All" : "所有人");
    return typeof names[id] === "string" && names[id] ? names[id] : "";
  }
  function initials(name) {
    const n = str(name).trim();
    if (!n) return "?";
    if (/[\u3400-\u9fff]/.test(n)) return Array.from(n.replace(/\s+/g, "")).slice(-2).join("");
    const words = n.split(/[\s._-]+/).filter(Boolean);
    return (words.length > 1 ? words[0][0] + words[1][0] : Array.from(n).slice(0, 2).join("")).toUpperCase();
  }
  const AVATAR_HUES = ["#3370ff", "#14c0ff", "#04b49c", "#34c724", "#ff8800", "#f54a45", "#7f3bf5", "#4954e6", "#d136d1"];
  function avatar(id, name, size) {
    const node = h("span", "fc-avatar", initials(name || id));
    let hash = 0;
    for (const ch of str(id)) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
    node.style.background = AVATAR_HUES[hash % AVATAR_HUES.length];
    node.setAttribute("aria-hidden", "true");
    if (size) node.dataset.size = size;
    return node;
  }
  function personChip(id, ctx, opts) {
    const o = opts || {};
    const name = nameOf(id, ctx);
    const node = h("span", "fc-person");
    node.dataset.userId = str(id);
    node.dataset.size = o.size || "medium";
    if (o.style === "capsule") node.classList.add("fc-person-capsule");
    if (o.showAvatar !== false) node.appendChild(avatar(id, name, o.size));
    if (o.showName !== false) {
      const label = h("span", "fc-person-name" + (name ? "" : " fc-unknown-person"), name || str(id) || "?");
      node.appendChild(label);
    }
    node.title = name ? name + " (" + id + ")" : str(id);
    return node;
  }
  function mention(id, ctx, fallback) {
    const name = nameOf(id, ctx) || fallback || str(id);
    const node = h("span", "fc-mention", "@" + name);
    node.dataset.id = str(id);
    if (ctx && ctx.me && id === ctx.me) node.classList.add("fc-mention-me");
    if (id === "all") node.classList.add("fc-mention-all");
    return node;
  }

  // ---- lark_md: inline ----------------------------------------------------------------------------------------------
  const PUNCT = /[!-/:-@[-`{-~]/;
  const INLINE_TAGS = new Set(["at", "font", "text_tag", "a", "link", "br", "hr", "local_datetime", "number_tag", "person"]);
  const TAG_OPEN = /<([A-Za-z_][A-Za-z0-9_]*)((?:\s+[A-Za-z_][\w-]*(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?)*)\s*(\/?)>/y;
  const AUTOLINK = /https?:\/\/[^\s<>"'`\u3000-\u303f\uff00-\uffef]+/y;

  function attrsOf(text) {
    const out = {};
    const re = /([A-Za-z_][\w-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g;
    let m;
    while ((m = re.exec(text))) {
      const value = m[2] !== undefined ? m[2] : m[3] !== undefined ? m[3] : m[4] !== undefined ? m[4] : "";
      out[m[1].toLowerCase()] = decodeEntities(value);
    }
    return out;
  }
  function findClosingTag(src, name, from) {  // [start, end] of the matching </name>, nesting counted
    const re = new RegExp("<(/?)" + name + "(?=[\\s/>])[^>]*>", "gi");
    re.lastIndex = from;
    let depth = 1;
    let m;
    while ((m = re.exec(src))) {
      if (m[1]) {
        depth -= 1;
        if (depth === 0) return [m.index, re.lastIndex];
      } else if (!/\/>$/.test(m[0])) {
        depth += 1;
      }
    }
    return null;
  }
  function findCloser(src, delim, from) {  // a closing delimiter not preceded by whitespace
    let j = src.indexOf(delim, from);
    while (j !== -1) {
      if (j > from && !/\s/.test(src[j - 1])) return j;
      j = src.indexOf(delim, j + 1);
    }
    return -1;
  }
  function findSingleStar(src, from) {
    for (let j = from; j < src.length; j++) {
      if (src[j] !== "*") continue;
      if (src[j + 1] === "*") { j += 1; continue; }
      if (j > from && !/\s/.test(src[j - 1])) return j;
    }
    return -1;
  }

  const DATE_FORMATS = {
    date_num: { year: "numeric", month: "2-digit", day: "2-digit" },
    date_short: { month: "short", day: "numeric" },
    date: { year: "numeric", month: "long", day: "numeric" },
    week: { weekday: "long" },
    week_short: { weekday: "short" },
    time: { hour: "2-digit", minute: "2-digit" },
    time_sec: { hour: "2-digit", minute: "2-digit", second: "2-digit" },
  };
  function localDatetime(attrs, ctx) {
    const ms = attrs.millisecond ? Number(attrs.millisecond) : Date.now();
    const when = new Date(isFinite(ms) ? ms : Date.now());
    const lang = ctx && ctx.locale === "en_us" ? "en-US" : "zh-CN";
    const fmt = DATE_FORMATS[attrs.format_type] || { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" };
    try { return when.toLocaleString(lang, fmt); } catch (err) { return when.toISOString(); }
  }

  // One inline tag at src[i] ("<"): [node, next index] or null (then "<" is literal text).
  function tagAt(src, i, ctx, depth) {
    TAG_OPEN.lastIndex = i;
    const m = TAG_OPEN.exec(src);
    if (!m) return null;
    const name = m[1].toLowerCase();
    if (!INLINE_TAGS.has(name)) return null;
    const attrs = attrsOf(m[2]);
    const afterOpen = TAG_OPEN.lastIndex;
    if (name === "br" || name === "hr") return [h("br"), afterOpen];
    let inner = "";
    let end = afterOpen;
    if (!m[3]) {
      const close = findClosingTag(src, name, afterOpen);
      if (!close) return null;
      inner = src.slice(afterOpen, close[0]);
      end = close[1];
    }
    switch (name) {
      case "at": {
        const id = attrs.id || attrs.user_id || attrs.open_id || attrs.union_id || attrs.email || "";
        if (!id) return null;
        return [mention(id, ctx, decodeEntities(inner).trim()), end];
      }
      case "person": {
        const id = attrs.id || attrs.user_id || attrs.open_id || "";
        if (!id) return null;
        return [personChip(id, ctx, { size: "small", showAvatar: attrs.show_avatar !== "false",
                                      showName: attrs.show_name !== "false", style: attrs.style }), end];
      }
      case "font": {
        const span = h("span", "fc-font");
        const color = textColor(attrs.color, ctx);
        if (color) span.style.color = color;
        span.dataset.color = str(attrs.color);
        span.appendChild(inline(inner, ctx, depth + 1));
        return [span, end];
      }
      case "text_tag": {
        const tag = textTag(attrs.color, ctx);
        tag.appendChild(inline(inner, ctx, depth + 1));
        return [tag, end];
      }
      case "a":
      case "link":
        return [makeLink(attrs.href || attrs.url || attrs.pc_url, ctx, inline(inner, ctx, depth + 1)), end];
      case "number_tag": {
        const tag = h("span", "fc-number-tag");
        const bg = textColor(attrs.background_color, ctx);
        if (bg) tag.style.background = bg;
        const fg = textColor(attrs.font_color, ctx);
        if (fg) tag.style.color = fg;
        tag.appendChild(inline(inner, ctx, depth + 1));
        const url = attrs.url || attrs.pc_url;
        return [url ? makeLink(url, ctx, tag) : tag, end];
      }
      case "local_datetime":
        return [h("span", "fc-datetime", localDatetime(attrs, ctx)), end];
      default:
        return null;
    }
  }

  const TAG_COLORS = new Set(["neutral", "blue", "turquoise", "lime", "orange", "violet", "indigo", "wathet", "green",
                              "yellow", "red", "purple", "carmine"]);
  function textTag(colorName, ctx) {
    const tag = h("span", "fc-tag");
    const raw = str(colorName).trim();
    tag.dataset.color = TAG_COLORS.has(raw) ? raw : baseColor(raw) || "neutral";
    if (raw && !TAG_COLORS.has(raw)) {  // a shade ("blue-600") or a custom colour: text in it on a light tint
      const fg = textColor(raw, ctx);
      if (fg) {
        tag.style.color = fg;
        if (/^#[0-9a-f]{6}$/i.test(fg)) tag.style.background = mix(fg, "#ffffff", 0.85);
      }
    }
    return tag;
  }

  // Emphasis at src[i] (*, _ or ~): [node, next index] or null.
  function emphasisAt(src, i, ctx, depth) {
    const wrap = (tags, start, end, next) => {
      const outer = h(tags[0]);
      let inner = outer;
      for (const t of tags.slice(1)) { const n = h(t); inner.appendChild(n); inner = n; }
      inner.appendChild(inline(src.slice(start, end), ctx, depth + 1));
      return [outer, next];
    };
    const opensBefore = (k) => k < src.length && !/\s/.test(src[k]);
    for (const [delim, tags] of [["***", ["strong", "em"]], ["**", ["strong"]], ["__", ["strong"]], ["~~", ["del"]]]) {
      if (!src.startsWith(delim, i)) continue;
      const start = i + delim.length;
      if (!opensBefore(start)) return null;
      if (delim === "__" && i > 0 && /\w/.test(src[i - 1])) return null;
      const j = findCloser(src, delim, start);
      if (j < 0) continue;  // "***" without a closer may still be "**" + "*"
      if (delim === "__" && /\w/.test(src[j + 2] || "")) return null;
      return wrap(tags, start, j, j + delim.length);
    }
    if (src[i] === "*" && src[i + 1] !== "*" && opensBefore(i + 1)) {
      const j = findSingleStar(src, i + 1);
      if (j > i + 1) return wrap(["em"], i + 1, j, j + 1);
    }
    return null;
  }

  function inline(src, ctx, depth) {
    const frag = document.createDocumentFragment();
    const s = str(src);
    if (depth > 12) {
      frag.appendChild(document.createTextNode(decodeEntities(s)));
      return frag;
    }
    let buf = "";
    const flush = () => { if (buf) { frag.appendChild(document.createTextNode(buf)); buf = ""; } };
    const push = (node) => { flush(); frag.appendChild(node); };
    let i = 0;
    while (i < s.length) {
      const c = s[i];
      if (c === "&") {
        const e = entityAt(s, i);
        if (e) { buf += e[0]; i += e[1]; continue; }
      } else if (c === "\\" && i + 1 < s.length && PUNCT.test(s[i + 1])) {
        buf += s[i + 1];
        i += 2;
        continue;
      } else if (c === "\n") {
        push(h("br"));
        i += 1;
        continue;
      } else if (c === "`") {
        let k = i;
        while (s[k] === "`") k += 1;
        const fence = s.slice(i, k);
        const close = s.indexOf(fence, k);
        if (close > k) {
          push(h("code", "fc-code", decodeEntities(s.slice(k, close))));
          i = close + fence.length;
          continue;
        }
        buf += fence;
        i = k;
        continue;
      } else if (c === "*" || c === "_" || c === "~") {
        const r = emphasisAt(s, i, ctx, depth);
        if (r) { push(r[0]); i = r[1]; continue; }
        let k = i;
        while (s[k] === c) k += 1;  // an unmatched run stays literal as a whole
        buf += s.slice(i, k);
        i = k;
        continue;
      } else if (c === "!" && s[i + 1] === "[") {
        const r = linkAt(s, i + 1, ctx, depth, true);
        if (r) { push(r[0]); i = r[1]; continue; }
      } else if (c === "[") {
        const r = linkAt(s, i, ctx, depth, false);
        if (r) { push(r[0]); i = r[1]; continue; }
      } else if (c === "<") {
        const r = tagAt(s, i, ctx, depth);
        if (r) { push(r[0]); i = r[1]; continue; }
      } else if ((c === "h" || c === "H") && (i === 0 || !/[A-Za-z0-9]/.test(s[i - 1]))) {
        AUTOLINK.lastIndex = i;
        const m = AUTOLINK.exec(s);
        if (m) {
          const url = m[0].replace(/[.,;:!?)\]]+$/, "");
          push(makeLink(url, ctx, document.createTextNode(url)));
          i += url.length;
          continue;
        }
      }
      buf += c;
      i += 1;
    }
    flush();
    return frag;
  }

  // [text](url) or ![alt](img_key) at src[i] === "[": [node, next index] or null.
  function linkAt(src, i, ctx, depth, image) {
    let level = 0;
    let j = i;
    for (; j < src.length; j++) {
      if (src[j] === "[") level += 1;
      else if (src[j] === "]") { level -= 1; if (level === 0) break; }
      else if (src[j] === "\n") return null;
    }
    if (j >= src.length || src[j + 1] !== "(") return null;
    const close = src.indexOf(")", j + 2);
    if (close < 0) return null;
    const label = src.slice(i + 1, j);
    const target = decodeEntities(src.slice(j + 2, close)).trim();
    const next = close + 1;
    if (image) {
      const ph = h("span", "fc-img-inline", "🖼 " + (decodeEntities(label) || "image"));
      ph.dataset.imgKey = target;
      return [ph, next];
    }
    return [makeLink(target, ctx, inline(label, ctx, depth + 1)), next];
  }

  // ---- lark_md: blocks ------------------------------------------------------------------------------------------------
  const RE_FENCE = /^\s*(```+|~~~+)(.*)$/;
  const RE_HR = /^ {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,}|<hr\s*\/?>)\s*$/i;
  const RE_HEADING = /^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;
  const RE_QUOTE = /^ {0,3}>[ \t]?(.*)$/;
  const RE_ITEM = /^([ \t]*)([-*+]|\d{1,9}[.)])[ \t]+(.*)$/;
  const RE_TABLE_SEP = /^\s*\|?\s*:?-{1,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?\s*$/;

  function indentOf(ws) { return ws.replace(/\t/g, "    ").length; }
  function isBlockStart(line, next) {
    return RE_FENCE.test(line) || RE_HR.test(line) || RE_HEADING.test(line) || RE_QUOTE.test(line)
      || RE_ITEM.test(line) || (line.trim().startsWith("|") && next !== undefined && RE_TABLE_SEP.test(next) && next.includes("-"));
  }
  function splitRow(line) {
    let t = line.trim();
    if (t.startsWith("|")) t = t.slice(1);
    if (t.endsWith("|") && !t.endsWith("\\|")) t = t.slice(0, -1);
    const cells = [];
    let cur = "";
    for (let i = 0; i < t.length; i++) {
      if (t[i] === "\\" && t[i + 1] === "|") { cur += "|"; i += 1; continue; }
      if (t[i] === "|") { cells.push(cur.trim()); cur = ""; continue; }
      cur += t[i];
    }
    cells.push(cur.trim());
    return cells;
  }

  function markdownBlocks(text, ctx) {
    const root = h("div", "fc-md");
    appendBlocks(root, str(text).replace(/\r\n?/g, "\n").split("\n"), ctx, 0);
    return root;
  }

  function appendBlocks(parent, lines, ctx, depth) {
    let i = 0;
    let previous = null;
    const add = (node) => { parent.appendChild(node); previous = node; };
    while (i < lines.length) {
      const line = lines[i];
      if (!line.trim()) {  // a blank line between blocks shows as a little space
        if (previous && i + 1 < lines.length && lines.slice(i + 1).some((l) => l.trim())) add(h("div", "fc-md-gap"));
        while (i < lines.length && !lines[i].trim()) i += 1;
        continue;
      }
      let m;
      if ((m = RE_FENCE.exec(line))) {
        const fence = m[1];
        const body = [];
        i += 1;
        while (i < lines.length && !lines[i].trim().startsWith(fence)) body.push(lines[i++]);
        i += 1;
        const pre = h("pre", "fc-codeblock");
        pre.appendChild(h("code", "", decodeEntities(body.join("\n"))));
        if (m[2].trim()) pre.dataset.lang = decodeEntities(m[2].trim());
        add(pre);
        continue;
      }
      if (RE_HR.test(line)) { add(h("div", "fc-hr fc-md-hr")); i += 1; continue; }
      if ((m = RE_HEADING.exec(line))) {
        const head = h("div", "fc-md-h fc-md-h" + m[1].length);
        head.setAttribute("role", "heading");
        head.setAttribute("aria-level", String(m[1].length));
        head.appendChild(inline(m[2], ctx, 0));
        add(head);
        i += 1;
        continue;
      }
      if (RE_QUOTE.test(line) && depth < 4) {
        const quoted = [];
        while (i < lines.length && (m = RE_QUOTE.exec(lines[i]))) { quoted.push(m[1]); i += 1; }
        const quote = h("blockquote", "fc-md-quote");
        appendBlocks(quote, quoted, ctx, depth + 1);
        add(quote);
        continue;
      }
      if (RE_ITEM.test(line)) { i = appendList(parent, lines, i, ctx); previous = parent.lastChild; continue; }
      if (line.trim().startsWith("|") && i + 1 < lines.length && RE_TABLE_SEP.test(lines[i + 1]) && lines[i + 1].includes("-")) {
        const table = h("table", "fc-md-table");
        const head = h("tr");
        for (const cell of splitRow(line)) { const th = h("th"); th.appendChild(inline(cell, ctx, 0)); head.appendChild(th); }
        table.appendChild(h("thead")).appendChild(head);
        const body = table.appendChild(h("tbody"));
        i += 2;
        while (i < lines.length && lines[i].trim().startsWith("|")) {
          const tr = h("tr");
          for (const cell of splitRow(lines[i])) { const td = h("td"); td.appendChild(inline(cell, ctx, 0)); tr.appendChild(td); }
          body.appendChild(tr);
          i += 1;
        }
        add(table);
        continue;
      }
      const para = [line];
      i += 1;
      while (i < lines.length && lines[i].trim() && !isBlockStart(lines[i], lines[i + 1])) para.push(lines[i++]);
      const p = h("div", "fc-md-p");
      p.appendChild(inline(para.join("\n"), ctx, 0));
      add(p);
    }
  }

  // A run of list items starting at lines[start], nested by indentation; an indented line that is not an item
  // continues the item above it. Returns the index of the first line after the list.
  function appendList(parent, lines, start, ctx) {
    const stack = [];  // {indent, ordered, list, li}
    const newList = (ordered, marker) => {
      const node = h(ordered ? "ol" : "ul", "fc-md-list");
      if (ordered) node.start = parseInt(marker, 10) || 1;
      return node;
    };
    let i = start;
    while (i < lines.length) {
      const m = RE_ITEM.exec(lines[i]);
      if (!m) break;
      const indent = indentOf(m[1]);
      const ordered = /\d/.test(m[2]);
      const content = [m[3]];
      i += 1;
      while (i < lines.length && lines[i].trim() && /^[ \t]+/.test(lines[i]) && !RE_ITEM.test(lines[i])) {
        content.push(lines[i].trim());
        i += 1;
      }
      while (stack.length && indent < stack[stack.length - 1].indent) stack.pop();
      let top = stack[stack.length - 1];
      if (top && indent > top.indent + 1 && stack.length < 8) {
        const nested = newList(ordered, m[2]);
        top.li.appendChild(nested);
        top = { indent, ordered, list: nested, li: null };
        stack.push(top);
      } else if (!top || top.ordered !== ordered) {
        const fresh = newList(ordered, m[2]);
        if (top) stack.pop();
        (stack.length ? stack[stack.length - 1].li : parent).appendChild(fresh);
        top = { indent, ordered, list: fresh, li: null };
        stack.push(top);
      }
      const li = h("li");
      const body = h("div", "fc-md-li");
      body.appendChild(inline(content.join("\n"), ctx, 0));
      li.appendChild(body);
      top.list.appendChild(li);
      top.li = li;
    }
    return i;
  }

  // ---- components ---------------------------------------------------------------------------------------------------
  function errorBox(tag, err) {
    const node = h("div", "fc-error");
    node.dataset.tag = str(tag);
    node.appendChild(h("strong", "", "Could not draw " + (tag ? "“" + tag + "”" : "this component")));
    node.appendChild(h("div", "fc-error-detail", err && err.message ? err.message : str(err)));
    return node;
  }
  function unknownBox(tag) {
    const node = h("div", "fc-unknown fc-block");
    node.dataset.tag = str(tag);
    node.textContent = "Unsupported component: " + (tag ? str(tag) : "(no tag)");
    return node;
  }

  function renderElement(el, ctx) {
    let tag = "";
    try {
      if (!isObj(el)) throw new Error("a component must be an object, got " + (el === null ? "null" : typeof el));
      tag = str(el.tag);
      const draw = Object.prototype.hasOwnProperty.call(COMPONENTS, tag) ? COMPONENTS[tag] : null;
      const v1Only = ctx.schema !== "2.0" && Object.prototype.hasOwnProperty.call(V1_COMPONENTS, tag);
      if (!draw && !v1Only) return unknownBox(tag);
      const node = (draw || V1_COMPONENTS[tag])(el, ctx);
      node.classList.add("fc-el");
      if (!node.dataset.tag) node.dataset.tag = tag;
      if (typeof el.element_id === "string") node.dataset.elementId = el.element_id;
      const margin = box(el.margin);
      if (margin) node.style.margin = margin;
      return node;
    } catch (err) {
      if (window.console) console.warn("FeishuCards: could not draw", tag || el, err);
      return errorBox(tag, err);
    }
  }

  // Containers lay out their children: direction, padding, spacing and alignment (JSON 2.0 "layout" props).
  function layout(node, props, ctx, defaults) {
    const d = defaults || {};
    const row = props.direction === "horizontal";
    node.classList.add("fc-flow", row ? "fc-row" : "fc-stack");
    const gap = row ? spacing(props.horizontal_spacing, d.hgap || "8px") : spacing(props.vertical_spacing, d.vgap || "8px");
    node.style.gap = gap;
    const pad = box(props.padding) || d.padding || "";
    if (pad) node.style.padding = pad;
    const H = { left: "flex-start", center: "center", right: "flex-end" };
    const V = { top: "flex-start", center: "center", bottom: "flex-end" };
    if (row) {
      if (H[props.horizontal_align]) node.style.justifyContent = H[props.horizontal_align];
      if (V[props.vertical_align]) node.style.alignItems = V[props.vertical_align];
    } else {
      if (H[props.horizontal_align]) node.style.alignItems = H[props.horizontal_align];
      if (V[props.vertical_align]) node.style.justifyContent = V[props.vertical_align];
    }
    for (const child of list(props.elements)) node.appendChild(renderElement(child, ctx));
    return node;
  }

  function renderMarkdownComponent(el, ctx) {
    const node = h("div", "fc-markdown fc-block");
    applyTextStyle(node, el, ctx);
    if (isObj(el.icon)) node.appendChild(iconDot(el.icon, ctx));
    if (el.content !== undefined && typeof el.content !== "string") throw new Error("markdown content must be a string");
    node.appendChild(markdownBlocks(contentOf(el, ctx), ctx));
    return node;
  }

  function iconDot(icon, ctx) {
    const dot = h("span", "fc-icon");
    dot.dataset.token = str(icon.token || icon.img_key);
    const color = textColor(icon.color, ctx);
    if (color) dot.style.background = color;
    dot.setAttribute("aria-hidden", "true");
    return dot;
  }

  function renderDiv(el, ctx) {
    const node = h("div", "fc-div fc-block");
    if (isObj(el.icon)) node.appendChild(iconDot(el.icon, ctx));
    if (el.text !== undefined) node.appendChild(renderTextObject(el.text, ctx, "fc-div-text"));
    const fields = list(el.fields);
    if (fields.length) {
      const grid = h("div", "fc-fields");
      for (const field of fields) {
        const cell = renderTextObject(isObj(field) ? field.text : field, ctx, "fc-field");
        if (isObj(field) && field.is_short) cell.classList.add("fc-field-short");
        grid.appendChild(cell);
      }
      node.appendChild(grid);
    }
    return node;
  }

  function renderHr() { return h("div", "fc-hr fc-block"); }

  const IMG_SIZES = { large: ["160px", "160px"], medium: ["80px", "80px"], small: ["64px", "64px"], tiny: ["16px", "16px"] };
  function renderImg(el, ctx) {
    const node = h("figure", "fc-img");
    node.dataset.imgKey = str(el.img_key);
    const ph = h("div", "fc-img-box");
    const alt = contentOf(el.alt, ctx);
    ph.appendChild(h("span", "fc-img-glyph", "🖼"));
    ph.appendChild(h("span", "fc-img-alt", alt || "Image"));
    ph.title = alt || str(el.img_key);
    const size = str(el.size);
    const m = /^(\d+px)\s+(\d+px)$/.exec(size);
    if (m) { ph.style.width = m[1]; ph.style.height = m[2]; } else if (IMG_SIZES[size]) {
      ph.style.width = IMG_SIZES[size][0];
      ph.style.height = IMG_SIZES[size][1];
    } else {
      node.classList.add("fc-block");
    }
    const radius = pxOrPercent(el.corner_radius);
    if (radius) ph.style.borderRadius = radius;
    node.appendChild(ph);
    if (el.title !== undefined) {
      const cap = h("figcaption", "fc-img-title");
      cap.appendChild(renderTextObject(el.title, ctx, "", true));
      node.appendChild(cap);
    }
    return node;
  }

  function renderImgCombination(el, ctx) {
    const node = h("div", "fc-img-combination fc-block");
    const items = list(el.img_list);
    node.dataset.count = String(items.length);
    for (const item of items) {
      const ph = h("div", "fc-img-box", "🖼");
      ph.dataset.imgKey = str(isObj(item) && item.img_key);
      node.appendChild(ph);
    }
    return node;
  }

  function renderPerson(el, ctx) {
    return personChip(str(el.user_id), ctx, { size: el.size, showAvatar: el.show_avatar, showName: el.show_name, style: el.style });
  }
  function renderPersonList(el, ctx) {
    const node = h("div", "fc-person-list");
    if (isObj(el.icon)) node.appendChild(iconDot(el.icon, ctx));
    const lines = Number(el.lines);
    if (Number.isInteger(lines) && lines > 0) { node.classList.add("fc-clamp"); node.style.webkitLineClamp = String(lines); }
    for (const p of list(el.persons)) {
      node.appendChild(personChip(str(isObj(p) ? p.id : p), ctx, { size: el.size, showAvatar: el.show_avatar, showName: el.show_name }));
    }
    return node;
  }

  // ---- column_set --------------------------------------------------------------------------------------------------
  function renderColumnSet(el, ctx) {
    const node = h("div", "fc-columns fc-block");
    const mode = str(el.flex_mode) || "none";
    node.dataset.flexMode = mode;
    const gap = spacing(el.horizontal_spacing, "8px");
    node.style.columnGap = gap;
    node.style.rowGap = gap;
    const H = { left: "flex-start", center: "center", right: "flex-end" };
    if (H[el.horizontal_align]) node.style.justifyContent = H[el.horizontal_align];
    const bg = tintColor(el.background_style, ctx);
    if (bg) { node.style.background = bg; node.classList.add("fc-has-bg"); }
    const url = isObj(el.action) ? urlOf(el.action) : "";
    if (url) { node.classList.add("fc-clickable"); node.addEventListener("click", () => openUrl(ctx, url)); }
    const columns = list(el.columns);
    for (const col of columns) {
      let child;
      try {
        child = isObj(col) && col.tag === "column" ? renderColumn(col, ctx, mode, gap, columns.length)
          : isObj(col) ? unknownBox(col.tag) : errorBox("column", new Error("a column must be an object"));
      } catch (err) {
        child = errorBox("column", err);
      }
      node.appendChild(child);
    }
    return node;
  }

  function renderColumn(col, ctx, mode, gap) {
    const node = h("div", "fc-column");
    const width = str(col.width) || "auto";
    node.dataset.width = width;
    const weight = Number.isInteger(col.weight) && col.weight > 0 ? col.weight : 1;
    if (mode === "bisect" || mode === "trisect") {
      const n = mode === "bisect" ? 2 : 3;
      node.style.flex = "0 0 calc((100% - " + (n - 1) + " * " + gap + ") / " + n + ")";
      node.style.minWidth = "0";
    } else if (width === "weighted") {
      node.style.flex = weight + " 1 0";
      node.style.minWidth = "0";
    } else if (PX.test(width)) {
      node.style.flex = "0 0 " + width;
      node.style.maxWidth = "100%";
    } else {
      node.style.flex = "0 1 auto";
      node.style.minWidth = "0";
    }
    const V = { top: "flex-start", center: "center", bottom: "flex-end" };
    node.style.alignSelf = V[col.vertical_align] || "flex-start";
    const bg = tintColor(col.background_style, ctx);
    if (bg) { node.style.background = bg; node.classList.add("fc-has-bg"); }
    const url = isObj(col.action) ? urlOf(col.action) : "";
    if (url) { node.classList.add("fc-clickable"); node.addEventListener("click", () => openUrl(ctx, url)); }
    node.classList.add("fc-el");
    node.dataset.tag = "column";
    if (typeof col.element_id === "string") node.dataset.elementId = col.element_id;
    return layout(node, col, ctx, { vgap: "8px", hgap: "8px" });
  }

  // ---- table ----------------------------------------------------------------------------------------------------------
  const ROW_HEIGHTS = { low: "32px", middle: "48px", high: "64px" };
  function formatNumber(value, format) {
    const n = Number(value);
    if (value === "" || value === null || value === undefined || !isFinite(n)) return str(value);
    const f = isObj(format) ? format : {};
    const precision = Number.isInteger(f.precision) && f.precision >= 0 && f.precision <= 10 ? f.precision : undefined;
    let text = precision !== undefined ? n.toFixed(precision) : String(n);
    if (f.separator) {
      const parts = text.split(".");
      parts[0] = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",");
      text = parts.join(".");
    }
    return str(f.symbol) + text;
  }
  function formatDate(value, pattern) {
    const when = new Date(typeof value === "number" ? value : isFinite(Number(value)) ? Number(value) : value);
    if (isNaN(when.getTime())) return str(value);
    const pad = (x) => String(x).padStart(2, "0");
    const parts = { YYYY: String(when.getFullYear()), MM: pad(when.getMonth() + 1), DD: pad(when.getDate()),
                    HH: pad(when.getHours()), mm: pad(when.getMinutes()), ss: pad(when.getSeconds()) };
    return str(pattern || "YYYY/MM/DD").replace(/YYYY|MM|DD|HH|mm|ss/g, (k) => parts[k]);
  }
  function renderCell(value, col, ctx) {
    const td = h("td");
    if (value === undefined || value === null) return td;
    const type = str(col.data_type) || "text";
    if (typeof value === "string" && value.length > 24) td.classList.add("fc-wrap");  // long text wraps, short stays on one line
    if (type === "lark_md" || type === "markdown") {
      td.appendChild(markdownBlocks(str(value), ctx));
    } else if (type === "number") {
      td.textContent = formatNumber(value, col.format);
      td.classList.add("fc-num");
    } else if (type === "options") {
      for (const opt of Array.isArray(value) ? value : [value]) {
        const tag = textTag(isObj(opt) ? opt.color : "neutral", ctx);
        tag.textContent = isObj(opt) ? str(opt.text) : str(opt);
        td.appendChild(tag);
      }
    } else if (type === "persons") {
      for (const id of Array.isArray(value) ? value : [value]) {
        td.appendChild(personChip(str(isObj(id) ? id.id : id), ctx, { size: "small" }));
      }
    } else if (type === "date") {
      td.textContent = formatDate(value, col.date_format);
    } else {
      td.textContent = typeof value === "object" ? JSON.stringify(value) : str(value);
    }
    return td;
  }

  function renderTable(el, ctx) {
    const node = h("div", "fc-table fc-block");
    const columns = list(el.columns).filter(isObj);
    const rows = list(el.rows);
    const pageSize = Number.isInteger(el.page_size) ? Math.min(10, Math.max(1, el.page_size)) : 5;
    const pages = Math.max(1, Math.ceil(rows.length / pageSize));
    node.dataset.rows = String(rows.length);
    node.dataset.pages = String(pages);
    const scroller = h("div", "fc-table-scroll");
    const table = h("table");
    if (el.freeze_first_column) table.classList.add("fc-freeze");
    const hs = isObj(el.header_style) ? el.header_style : {};
    const head = h("tr");
    for (const col of columns) {
      const th = h("th", "", str(col.display_name !== undefined ? col.display_name : col.name));
      const w = str(col.width) === "auto" ? "" : pxOrPercent(col.width);
      if (w) { th.style.width = w; th.style.minWidth = w; }
      if (["left", "center", "right"].includes(hs.text_align)) th.style.textAlign = hs.text_align;
      const size = textSize(hs.text_size, ctx);
      if (size) th.style.fontSize = size;
      const color = textColor(hs.text_color, ctx);
      if (color) th.style.color = color;
      if (hs.bold === false) th.style.fontWeight = "normal";
      if (hs.background_style === "none") th.classList.add("fc-th-plain");
      head.appendChild(th);
    }
    table.appendChild(h("thead")).appendChild(head);
    const body = table.appendChild(h("tbody"));
    const rowHeight = ROW_HEIGHTS[el.row_height] || (PX.test(str(el.row_height)) ? str(el.row_height) : "");
    const pager = h("div", "fc-table-pager");
    const prev = h("button", "fc-pager-prev", "‹");
    const label = h("span", "fc-pager-label");
    const next = h("button", "fc-pager-next", "›");
    prev.type = next.type = "button";
    prev.setAttribute("aria-label", "Previous page");
    next.setAttribute("aria-label", "Next page");
    pager.append(prev, label, next);
    let page = 0;
    const draw = () => {
      body.textContent = "";
      for (const row of rows.slice(page * pageSize, (page + 1) * pageSize)) {
        const tr = h("tr");
        for (const col of columns) {
          let td;
          try {
            td = renderCell(isObj(row) ? row[col.name] : undefined, col, ctx);
          } catch (err) {
            td = h("td");
            td.appendChild(errorBox("table cell", err));
          }
          const V = { top: "top", center: "middle", bottom: "bottom" };
          if (V[col.vertical_align]) td.style.verticalAlign = V[col.vertical_align];
          if (["left", "center", "right"].includes(col.horizontal_align)) td.style.textAlign = col.horizontal_align;
          if (rowHeight) td.style.height = rowHeight;
          tr.appendChild(td);
        }
        body.appendChild(tr);
      }
      node.dataset.page = String(page + 1);
      label.textContent = (page + 1) + " / " + pages;
      prev.disabled = page === 0;
      next.disabled = page >= pages - 1;
    };
    prev.addEventListener("click", (e) => { e.stopPropagation(); if (page > 0) { page -= 1; draw(); } });
    next.addEventListener("click", (e) => { e.stopPropagation(); if (page < pages - 1) { page += 1; draw(); } });
    draw();
    scroller.appendChild(table);
    node.appendChild(scroller);
    if (pages > 1) node.appendChild(pager);
    return node;
  }

  // ---- collapsible_panel -------------------------------------------------------------------------------------------------
  function renderPanel(el, ctx) {
    const node = h("div", "fc-panel fc-block");
    const header = isObj(el.header) ? el.header : {};
    const border = isObj(el.border) ? el.border : null;
    if (border) node.classList.add("fc-panel-bordered");
    decorate(node, ctx, border ? border.color : "", border ? border.corner_radius : "", el.background_color);
    const head = h("div", "fc-panel-header");
    head.setAttribute("role", "button");
    head.tabIndex = 0;
    const hbg = tintColor(header.background_color, ctx);
    if (hbg) head.style.background = hbg;
    const hpad = box(header.padding);
    if (hpad) head.style.padding = hpad;
    const V = { top: "flex-start", center: "center", bottom: "flex-end" };
    if (V[header.vertical_align]) head.style.alignItems = V[header.vertical_align];
    const title = renderTextObject(header.title !== undefined ? header.title : { tag: "plain_text", content: "" }, ctx, "fc-panel-title");
    const icon = h("span", "fc-panel-icon");
    icon.setAttribute("aria-hidden", "true");
    const angle = typeof header.icon_expanded_angle === "number" ? header.icon_expanded_angle : 180;
    const position = str(header.icon_position) || "right";
    head.dataset.iconPosition = position;
    if (position === "left") head.append(icon, title); else head.append(title, icon);
    const body = h("div", "fc-panel-body");
    layout(body, el, ctx, { vgap: "8px", padding: "8px 12px 8px 12px" });
    node.append(head, body);
    const set = (expanded) => {
      node.dataset.expanded = expanded ? "true" : "false";
      head.setAttribute("aria-expanded", expanded ? "true" : "false");
      body.hidden = !expanded;
      icon.style.transform = expanded ? "rotate(" + angle + "deg)" : "";
    };
    set(el.expanded === true);
    const toggle = (e) => { e.stopPropagation(); set(node.dataset.expanded !== "true"); };
    head.addEventListener("click", toggle);
    head.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggle(e); } });
    return node;
  }

  // ---- interactions -----------------------------------------------------------------------------------------------------
  function behaviorsOf(el) {
    const out = list(el.behaviors).filter(isObj);
    if (!out.length) {  // JSON 1.0 historical attributes
      if (isObj(el.value)) out.push({ type: "callback", value: el.value });
      const url = str(el.url) || (isObj(el.multi_url) ? urlOf(el.multi_url) : "");
      if (url) out.push({ type: "open_url", default_url: url });
    }
    return out;
  }
  function callbackValue(el) {
    const cb = behaviorsOf(el).find((b) => b.type === "callback");
    return cb ? (cb.value !== undefined ? cb.value : {}) : undefined;
  }
  function fireAction(ctx, value, info) {
    if (!ctx.onAction) return;
    try {
      ctx.onAction(value, info);
    } catch (err) {
      console.warn("FeishuCards: onAction failed", err);
    }
  }
  function confirmed(el, ctx) {
    if (!isObj(el.confirm)) return true;
    const text = [contentOf(el.confirm.title, ctx), contentOf(el.confirm.text, ctx)].filter(Boolean).join("\n\n");
    return window.confirm(decodeEntities(text) || "Confirm?");
  }
  // What a press does: confirm, then every behaviour (callback -> onAction, open_url -> onOpenUrl).
  function perform(el, ctx, node, extra) {
    if (el.disabled) return;
    if (!confirmed(el, ctx)) return;
    let formValue;
    const formAction = el.form_action_type || (el.action_type === "form_submit" ? "submit" : el.action_type === "form_reset" ? "reset" : "");
    if (formAction === "reset" && ctx.form) { ctx.form.reset(); return; }
    if (formAction === "submit" && ctx.form) {
      formValue = ctx.form.collect();
      if (formValue === null) return;  // a required field is empty
    }
    const info = Object.assign({ button: node, formValue, name: el.name }, extra || {});
    let called = false;
    for (const b of behaviorsOf(el)) {
      if (b.type === "callback") { fireAction(ctx, b.value !== undefined ? b.value : {}, info); called = true; }
      else if (b.type === "open_url") openUrl(ctx, urlOf(b));
    }
    if (formValue !== undefined && !called) fireAction(ctx, {}, info);
  }

  const BUTTON_TYPES = new Set(["default", "primary", "danger", "text", "primary_text", "danger_text", "primary_filled", "danger_filled", "laser"]);
  function renderButton(el, ctx) {
    const node = h("button", "fc-button");
    node.type = "button";
    const type = BUTTON_TYPES.has(el.type) ? el.type : "default";
    node.dataset.type = type;
    node.dataset.size = ["tiny", "small", "medium", "large"].includes(el.size) ? el.size : "medium";
    if (el.width === "fill") node.classList.add("fc-fill");
    else if (PX.test(str(el.width))) node.style.width = el.width;
    if (isObj(el.icon)) node.appendChild(iconDot(el.icon, ctx));
    if (el.text !== undefined) node.appendChild(renderTextObject(el.text, ctx, "fc-button-label", true));
    const tips = contentOf(el.disabled ? el.disabled_tips || el.hover_tips : el.hover_tips, ctx);
    if (tips) node.title = decodeEntities(tips);
    if (el.disabled) { node.disabled = true; node.setAttribute("aria-disabled", "true"); }
    if (el.name) node.dataset.name = str(el.name);
    const form = ctx.form;
    node.addEventListener("click", (e) => {
      e.stopPropagation();
      perform(el, Object.assign({}, ctx, { form }), node);
    });
    return node;
  }

  function renderInteractiveContainer(el, ctx) {
    const node = h("div", "fc-interactive");
    node.setAttribute("role", "button");
    node.tabIndex = el.disabled ? -1 : 0;
    const width = str(el.width) || "fill";
    if (width === "fill") node.classList.add("fc-block");
    else if (PX.test(width)) node.style.width = width;
    if (PX.test(str(el.height))) node.style.height = el.height;
    if (el.has_border) node.classList.add("fc-bordered");
    decorate(node, ctx, el.has_border ? el.border_color : "", el.corner_radius, el.background_style);
    const tips = contentOf(el.disabled ? el.disabled_tips : el.hover_tips, ctx);
    if (tips) node.title = decodeEntities(tips);
    if (el.disabled) node.classList.add("fc-disabled");
    layout(node, el, ctx, { vgap: "8px", padding: "4px 12px 4px 12px" });
    const form = ctx.form;
    const press = (e) => {
      const inner = e.target.closest && e.target.closest("button, a, input, select, textarea, .fc-interactive, .fc-panel-header");
      if (inner && inner !== node) return;  // a control inside the container handles its own press
      e.stopPropagation();
      perform(el, Object.assign({}, ctx, { form }), node);
    };
    node.addEventListener("click", press);
    node.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); press(e); } });
    return node;
  }

  // ---- form and inputs ---------------------------------------------------------------------------------------------------
  function renderForm(el, ctx) {
    const node = h("form", "fc-form fc-block");
    node.dataset.name = str(el.name);
    node.noValidate = true;
    node.addEventListener("submit", (e) => e.preventDefault());
    const fields = [];
    const form = {
      name: str(el.name),
      register(field) { fields.push(field); },
      reset() { for (const f of fields) f.reset(); },
      collect() {
        const value = {};
        let ok = true;
        for (const f of fields) {
          const v = f.get();
          const empty = v === "" || v === null || v === undefined || (Array.isArray(v) && !v.length) || v === false;
          f.node.classList.toggle("fc-invalid", Boolean(f.required && empty));
          if (f.required && empty) ok = false;
          if (f.name) value[f.name] = v;
        }
        return ok ? value : null;
      },
    };
    layout(node, el, Object.assign({}, ctx, { form }), { vgap: "12px" });
    return node;
  }

  function fieldWrap(el, ctx, control, cls) {
    const wrap = h("div", "fc-field-control " + cls);
    if (el.label !== undefined) {
      const label = renderTextObject(el.label, ctx, "fc-label", true);
      wrap.appendChild(label);
      if (el.label_position === "left") wrap.classList.add("fc-label-left");
    }
    if (el.required) wrap.classList.add("fc-required");
    wrap.appendChild(control);
    if (el.width === "fill") wrap.classList.add("fc-fill");
    else if (PX.test(str(el.width))) wrap.style.width = el.width;
    if (el.name) wrap.dataset.name = str(el.name);
    return wrap;
  }
  function register(ctx, el, wrap, get, reset) {
    if (ctx.form) ctx.form.register({ name: str(el.name), required: Boolean(el.required), node: wrap, get, reset });
  }
  function placeholderOf(el, ctx) { return decodeEntities(contentOf(el.placeholder, ctx)); }

  function renderInput(el, ctx) {
    const multi = el.input_type === "multiline_text";
    const control = h(multi ? "textarea" : "input", "fc-input");
    if (!multi) control.type = el.input_type === "password" ? "password" : "text";
    if (multi) control.rows = Number.isInteger(el.rows) ? el.rows : 3;
    control.placeholder = placeholderOf(el, ctx);
    const initial = decodeEntities(typeof el.default_value === "string" ? el.default_value : contentOf({ i18n_content: el.i18n_default_value }, ctx));
    control.value = initial;
    if (Number.isInteger(el.max_length)) control.maxLength = el.max_length;
    if (el.disabled) control.disabled = true;
    const wrap = fieldWrap(el, ctx, control, "fc-input-wrap");
    register(ctx, el, wrap, () => control.value, () => { control.value = initial; });
    if (!ctx.form && !multi) {
      control.addEventListener("keydown", (e) => {
        if (e.key !== "Enter") return;
        e.preventDefault();
        perform(el, ctx, control, { inputValue: control.value });
      });
    }
    return wrap;
  }

  function optionText(opt, ctx) { return decodeEntities(contentOf(isObj(opt) ? opt.text : opt, ctx)); }

  function renderSelect(el, ctx, multiple) {
    const control = h("select", "fc-select");
    control.multiple = Boolean(multiple);
    const options = list(el.options).filter(isObj);
    if (!multiple) {
      const ph = h("option", "", placeholderOf(el, ctx) || "请选择");
      ph.value = "";
      control.appendChild(ph);
    }
    for (const opt of options) {
      const o = h("option", "", optionText(opt, ctx) || str(opt.value));
      o.value = str(opt.value);
      control.appendChild(o);
    }
    const selected = multiple ? list(el.selected_values).map(str)
      : [el.initial_option !== undefined ? str(el.initial_option)
        : Number.isInteger(el.initial_index) && options[el.initial_index - 1] ? str(options[el.initial_index - 1].value) : ""];
    const apply = () => { for (const o of control.options) o.selected = selected.includes(o.value) && (o.value !== "" || !multiple); };
    apply();
    if (el.disabled) control.disabled = true;
    const wrap = fieldWrap(el, ctx, control, "fc-select-wrap");
    const get = () => (multiple ? Array.from(control.selectedOptions).map((o) => o.value) : control.value);
    register(ctx, el, wrap, get, apply);
    if (!ctx.form) {
      control.addEventListener("change", () => {
        const value = callbackValue(el);
        fireAction(ctx, value !== undefined ? value : { option: get() }, { button: control, name: el.name, option: get() });
      });
    }
    return wrap;
  }

  function renderPersonSelect(el, ctx, multiple) {
    const options = list(el.options).filter(isObj).map((o) => ({ value: str(o.value), text: { content: nameOf(str(o.value), ctx) || str(o.value) } }));
    return renderSelect(Object.assign({}, el, { options }), ctx, multiple);
  }

  function renderPicker(el, ctx, kind) {
    const control = h("input", "fc-input fc-picker");
    control.type = kind;
    const initial = str(kind === "date" ? el.initial_date : kind === "time" ? el.initial_time : el.initial_datetime).replace(" ", "T");
    control.value = initial;
    if (el.disabled) control.disabled = true;
    control.placeholder = placeholderOf(el, ctx);
    const wrap = fieldWrap(el, ctx, control, "fc-picker-wrap");
    register(ctx, el, wrap, () => control.value.replace("T", " "), () => { control.value = initial; });
    if (!ctx.form) {
      control.addEventListener("change", () => {
        const value = callbackValue(el);
        fireAction(ctx, value !== undefined ? value : {}, { button: control, name: el.name, option: control.value.replace("T", " ") });
      });
    }
    return wrap;
  }

  function renderChecker(el, ctx) {
    const wrap = h("label", "fc-checker");
    const box = h("input");
    box.type = "checkbox";
    box.checked = Boolean(el.checked);
    if (el.disabled) box.disabled = true;
    wrap.appendChild(box);
    if (el.text !== undefined) wrap.appendChild(renderTextObject(el.text, ctx, "fc-checker-text", true));
    if (el.name) wrap.dataset.name = str(el.name);
    const initial = box.checked;
    register(ctx, el, wrap, () => box.checked, () => { box.checked = initial; });
    if (!ctx.form) {
      box.addEventListener("change", () => {
        const value = callbackValue(el);
        fireAction(ctx, value !== undefined ? value : {}, { button: box, name: el.name, checked: box.checked });
      });
    }
    return wrap;
  }

  function renderOverflow(el, ctx) {
    const node = h("div", "fc-overflow");
    const trigger = h("button", "fc-button fc-overflow-trigger", "···");
    trigger.type = "button";
    trigger.dataset.type = "default";
    trigger.dataset.size = "small";
    trigger.setAttribute("aria-haspopup", "menu");
    const menu = h("div", "fc-overflow-menu");
    menu.setAttribute("role", "menu");
    menu.hidden = true;
    const close = () => { menu.hidden = true; document.removeEventListener("click", outside, true); };
    const outside = (e) => { if (!node.contains(e.target)) close(); };
    for (const opt of list(el.options).filter(isObj)) {
      const item = h("button", "fc-overflow-item", optionText(opt, ctx) || str(opt.value));
      item.type = "button";
      item.setAttribute("role", "menuitem");
      item.dataset.value = str(opt.value);
      item.addEventListener("click", (e) => {
        e.stopPropagation();
        close();
        if (!confirmed(el, ctx)) return;
        const url = isObj(opt.multi_url) ? urlOf(opt.multi_url) : "";
        if (url) { openUrl(ctx, url); return; }
        const base = callbackValue(el);
        const value = base !== undefined ? base : isObj(el.value) ? el.value : { option: opt.value };
        fireAction(ctx, value, { button: item, name: el.name, option: opt.value });
      });
      menu.appendChild(item);
    }
    trigger.addEventListener("click", (e) => {
      e.stopPropagation();
      if (menu.hidden) { menu.hidden = false; document.addEventListener("click", outside, true); } else close();
    });
    node.append(trigger, menu);
    return node;
  }

  // ---- chart (VisActor VChart, as Feishu's chart component) -------------------------------------------------------------
  const RATIOS = { "1:1": "1 / 1", "2:1": "2 / 1", "4:3": "4 / 3", "16:9": "16 / 9" };

  function chartData(spec) {  // [{name, values}] from spec.data (an object or a list of data sets)
    const sets = Array.isArray(spec.data) ? spec.data : isObj(spec.data) ? [spec.data] : [];
    const out = sets.filter((d) => isObj(d) && Array.isArray(d.values)).map((d, i) => ({ name: str(d.id) || (sets.length > 1 ? "data " + (i + 1) : ""), values: d.values }));
    for (const series of list(spec.series)) {  // data on series (combination charts)
      if (isObj(series) && isObj(series.data) && Array.isArray(series.data.values)) out.push({ name: str(series.data.id), values: series.data.values });
    }
    return out;
  }
  function chartTitle(spec) {
    if (!isObj(spec)) return "";
    return isObj(spec.title) ? str(spec.title.text) : "";
  }
  function chartPlaceholder(node, spec, reason) {
    node.textContent = "";
    node.dataset.chart = "placeholder";
    node.style.height = "";
    node.style.aspectRatio = "";
    node.classList.add("fc-chart-placeholder");
    const head = h("div", "fc-chart-head");
    head.appendChild(h("strong", "", "Chart"));
    const detail = [isObj(spec) && spec.type ? str(spec.type) + (spec.direction ? " (" + str(spec.direction) + ")" : "") : "", chartTitle(spec)].filter(Boolean).join(" · ");
    if (detail) head.appendChild(h("span", "fc-chart-detail", detail));
    node.appendChild(head);
    if (reason) node.appendChild(h("div", "fc-chart-reason", reason));
    for (const set of isObj(spec) ? chartData(spec) : []) {
      const rows = set.values.slice(0, 60);
      const keys = [];
      for (const row of rows) if (isObj(row)) for (const k of Object.keys(row)) if (!keys.includes(k)) keys.push(k);
      if (!keys.length) continue;
      if (set.name) node.appendChild(h("div", "fc-chart-set", set.name));
      const table = h("table", "fc-chart-data");
      const tr = h("tr");
      for (const k of keys) tr.appendChild(h("th", "", k));
      table.appendChild(h("thead")).appendChild(tr);
      const body = table.appendChild(h("tbody"));
      for (const row of rows) {
        const r = h("tr");
        for (const k of keys) {
          const v = isObj(row) ? row[k] : "";
          r.appendChild(h("td", "", typeof v === "object" && v !== null ? JSON.stringify(v) : str(v)));
        }
        body.appendChild(r);
      }
      node.appendChild(table);
      if (set.values.length > rows.length) node.appendChild(h("div", "fc-chart-more", "… " + (set.values.length - rows.length) + " more rows"));
    }
  }
  function vchartConstructor() {
    const lib = window.VChart;
    if (!lib) return null;
    if (typeof lib.VChart === "function") return lib.VChart;
    if (typeof lib.default === "function") return lib.default;
    return typeof lib === "function" ? lib : null;
  }

  function renderChart(el, ctx) {
    const node = h("div", "fc-chart fc-block");
    const spec = el.chart_spec;
    const height = str(el.height);
    if (PX.test(height)) node.style.height = height;
    else if (RATIOS[el.aspect_ratio]) node.style.aspectRatio = RATIOS[el.aspect_ratio];
    else node.style.height = "300px";
    if (!isObj(spec)) { chartPlaceholder(node, spec, "chart_spec is not an object"); return node; }
    const Ctor = vchartConstructor();
    if (!Ctor) { chartPlaceholder(node, spec, "VChart is not loaded: showing the chart's data"); return node; }
    let copy;
    try { copy = JSON.parse(JSON.stringify(spec)); } catch (err) { chartPlaceholder(node, spec, "chart_spec is not JSON"); return node; }
    node.dataset.chart = "pending";
    const canvasBox = h("div", "fc-chart-canvas");
    node.appendChild(canvasBox);
    let chart = null;
    let observer = null;
    const fail = (err) => {
      if (chart) { try { chart.release(); } catch (e) { /* already broken */ } chart = null; }
      if (observer) observer.disconnect();
      console.warn("FeishuCards: VChart could not draw the chart", err);
      chartPlaceholder(node, spec, "VChart could not draw this spec: " + (err && err.message ? err.message : str(err)));
    };
    // VChart measures its container, so it draws once the box is in the page and has a size; when the box
    // leaves the page (the message was re-rendered) the chart is released.
    const mount = () => {
      if (!node.isConnected) {
        if (chart) { try { chart.release(); } catch (e) { /* ignore */ } chart = null; observer && observer.disconnect(); }
        return;
      }
      if (chart || node.dataset.chart !== "pending" || canvasBox.clientWidth === 0 || canvasBox.clientHeight === 0) return;
      try {
        chart = new Ctor(copy, { dom: canvasBox, animation: false });
        chart.renderSync();
        node.dataset.chart = "rendered";
      } catch (err) {
        fail(err);
      }
    };
    if (typeof ResizeObserver === "function") {
      observer = new ResizeObserver(mount);
      observer.observe(canvasBox);
    } else {
      requestAnimationFrame(mount);
    }
    return node;
  }

  // ---- JSON 1.0 leftovers (drawn for 1.0 cards only; 2.0 removed them) -----------------------------------------------
  const V1_COMPONENTS = {
    action(el, ctx) {
      const node = h("div", "fc-action fc-block");
      for (const child of list(el.actions)) node.appendChild(renderElement(child, ctx));
      return node;
    },
    note(el, ctx) {
      const node = h("div", "fc-note fc-block");
      for (const child of list(el.elements)) {
        if (isObj(child) && (child.tag === "plain_text" || child.tag === "lark_md")) node.appendChild(renderTextObject(child, ctx, "", true));
        else if (isObj(child) && child.tag === "img") node.appendChild(h("span", "fc-img-inline", "🖼"));
        else node.appendChild(renderElement(child, ctx));
      }
      return node;
    },
  };

  const COMPONENTS = {
    markdown: renderMarkdownComponent,
    div: renderDiv,
    hr: renderHr,
    img: renderImg,
    img_combination: renderImgCombination,
    person: renderPerson,
    person_list: renderPersonList,
    column_set: renderColumnSet,
    table: renderTable,
    chart: renderChart,
    collapsible_panel: renderPanel,
    interactive_container: renderInteractiveContainer,
    form: renderForm,
    button: renderButton,
    input: renderInput,
    select_static: (el, ctx) => renderSelect(el, ctx, false),
    multi_select_static: (el, ctx) => renderSelect(el, ctx, true),
    select_person: (el, ctx) => renderPersonSelect(el, ctx, false),
    multi_select_person: (el, ctx) => renderPersonSelect(el, ctx, true),
    date_picker: (el, ctx) => renderPicker(el, ctx, "date"),
    picker_time: (el, ctx) => renderPicker(el, ctx, "time"),
    picker_datetime: (el, ctx) => renderPicker(el, ctx, "datetime-local"),
    checker: renderChecker,
    overflow: renderOverflow,
  };

  // ---- header and card ----------------------------------------------------------------------------------------------------
  const TEMPLATES = new Set(["blue", "wathet", "turquoise", "green", "yellow", "orange", "red", "carmine", "violet", "purple", "indigo", "grey", "default"]);

  function renderHeader(header, ctx) {
    const node = h("div", "fc-header");
    node.dataset.template = TEMPLATES.has(header.template) ? header.template : "default";
    const pad = box(header.padding);
    if (pad) node.style.padding = pad;
    if (isObj(header.icon)) {
      const icon = h("span", "fc-header-icon");
      icon.dataset.token = str(header.icon.token || header.icon.img_key);
      const color = textColor(header.icon.color, ctx);
      if (color) icon.style.background = color;
      icon.setAttribute("aria-hidden", "true");
      node.appendChild(icon);
    }
    const main = h("div", "fc-header-main");
    const titleRow = h("div", "fc-title-row");
    const title = renderTextObject(header.title, ctx, "fc-title", true);
    title.setAttribute("role", "heading");
    title.setAttribute("aria-level", "2");
    titleRow.appendChild(title);
    const i18nTags = isObj(header.i18n_text_tag_list) ? header.i18n_text_tag_list : {};
    const tags = Array.isArray(header.text_tag_list) ? header.text_tag_list
      : list(i18nTags[ctx.locale] || i18nTags.zh_cn || i18nTags.en_us);
    for (const t of tags.slice(0, 3)) {
      if (!isObj(t)) continue;
      const tag = textTag(t.color, ctx);
      tag.classList.add("fc-header-tag");
      tag.appendChild(renderTextObject(t.text, ctx, "", true));
      titleRow.appendChild(tag);
    }
    main.appendChild(titleRow);
    if (header.subtitle !== undefined && contentOf(header.subtitle, ctx)) main.appendChild(renderTextObject(header.subtitle, ctx, "fc-subtitle", true));
    node.appendChild(main);
    return node;
  }

  function contextFor(options, card) {
    const o = isObj(options) ? options : {};
    const style = isObj(card) && isObj(card.config) && isObj(card.config.style) ? card.config.style : {};
    return {
      names: isObj(o.names) ? o.names : {},
      onAction: typeof o.onAction === "function" ? o.onAction : null,
      onOpenUrl: typeof o.onOpenUrl === "function" ? o.onOpenUrl : null,
      me: str(o.me),
      locale: str(o.locale) || "zh_cn",
      customColors: isObj(style.color) ? style.color : {},
      customSizes: isObj(style.text_size) ? style.text_size : {},
      schema: isObj(card) ? str(card.schema) : "",
      form: null,
    };
  }

  function renderCard(input, options) {
    let card = input;
    if (typeof card === "string") card = JSON.parse(card);
    if (!isObj(card)) throw new Error("a card must be an object, got " + (card === null ? "null" : typeof card));
    const ctx = contextFor(options, card);
    const root = h("div", "fc-card");
    root.dataset.schema = ctx.schema || "1.0";
    const config = isObj(card.config) ? card.config : {};
    const width = ["fill", "compact"].includes(config.width_mode) ? config.width_mode : config.wide_screen_mode === false ? "compact" : "default";
    root.dataset.widthMode = width;
    if (isObj(card.header)) {
      try { root.appendChild(renderHeader(card.header, ctx)); } catch (err) { root.appendChild(errorBox("header", err)); }
    }
    const body = isObj(card.body) ? card.body : {};
    let elements = body.elements;
    if (elements === undefined && ctx.schema !== "2.0") {
      const i18n = isObj(card.i18n_elements) ? card.i18n_elements : {};
      elements = card.elements || i18n[ctx.locale] || i18n.zh_cn || i18n.en_us;
    }
    const main = h("div", "fc-body");
    try {
      layout(main, Object.assign({}, body, { elements: list(elements) }), ctx, { vgap: "12px", padding: "12px 12px 12px 12px" });
    } catch (err) {
      main.appendChild(errorBox("body", err));
    }
    if (main.childNodes.length) root.appendChild(main);
    const link = isObj(card.card_link) ? urlOf(card.card_link) : "";
    if (link) {
      root.classList.add("fc-linked");
      root.addEventListener("click", (e) => {
        if (e.target.closest && e.target.closest("button, a, input, select, textarea, label, .fc-interactive, .fc-panel-header")) return;
        openUrl(ctx, link);
      });
    }
    return root;
  }

  function render(card, options) {
    try {
      return renderCard(card, options);
    } catch (err) {
      const root = h("div", "fc-card fc-card-broken");
      root.appendChild(errorBox("card", err));
      return root;
    }
  }

  function renderMarkdown(text, names) {
    const node = h("div", "fc-markdown");
    try {
      node.appendChild(markdownBlocks(str(text), contextFor({ names }, null)));
    } catch (err) {
      node.textContent = str(text);
    }
    return node;
  }

  window.FeishuCards = Object.freeze({ render, renderMarkdown, decodeEntities, version: "1" });
})();
