// chainrule's explorer page: steps through a graph drawn by autograd.draw.
// Reads the JSON written by autograd/viz/explorer.py; every piece of data reaches the DOM through
// textContent (never innerHTML), so a label is always shown as text.
"use strict";

function explore(root) {
  const started = performance.now();
  const data = JSON.parse(root.querySelector("script.cr-data").textContent);
  const steps = data.steps;
  const nodes = data.nodes;
  const n = steps.length - 1;
  const svg = root.querySelector(".cr-graph svg");
  const graphBox = root.querySelector(".cr-graph");
  const SVGNS = "http://www.w3.org/2000/svg";

  // ---- map the SVG onto the description ---------------------------------------------------
  // draw() names node i "v<i>" and its op ellipse "v<i>op"; edges are titled "tail->head".
  const byId = new Map(nodes.map((node, i) => [node.id, i]));
  const els = nodes.map(() => ({ g: null, op: null, data: null, grad: null, pill: null }));
  // explorer.py moves each group's <title> into data-id; a <title> left in place is read and
  // removed (the browser would show "v3" as a tooltip)
  function nameOf(g) {
    if (g.dataset.id) return g.dataset.id;
    const title = g.querySelector(":scope > title");
    if (!title) return null;
    title.remove();
    return title.textContent;
  }
  for (const g of svg.querySelectorAll("g.node")) {
    const name = nameOf(g);
    if (name === null) continue;
    const isOp = name.endsWith("op");
    const i = byId.get(isOp ? name.slice(0, -2) : name);
    if (i === undefined) continue;
    g.dataset.node = String(i);
    g.classList.add("cr-node");
    if (isOp) {
      els[i].op = g;
      continue;
    }
    els[i].g = g;
    for (const text of g.querySelectorAll("text")) {
      if (text.getAttribute("font-weight") === "bold") continue; // a label, never a number
      const content = text.textContent;
      if (content.startsWith("data ")) els[i].data = text;
      else if (content.startsWith("grad ")) {
        els[i].grad = text;
        const pill = text.previousElementSibling; // the coloured rounded box behind the text
        if (pill && pill.tagName !== "text" && pill.getAttribute("fill") !== "none") {
          els[i].pill = pill;
          pill.dataset.fill = pill.getAttribute("fill");
        }
      }
    }
  }
  const edges = new Map();
  for (const g of svg.querySelectorAll("g.edge")) {
    const name = nameOf(g);
    if (name === null) continue;
    if (!edges.has(name)) edges.set(name, []);
    edges.get(name).push(g);
  }

  // ---- what each node shows at the current step -------------------------------------------
  function showData(i, shown) {
    const e = els[i];
    if (e.data) e.data.textContent = "data " + (shown ? nodes[i].data : "?");
    for (const g of [e.g, e.op]) if (g) g.classList.toggle("cr-pending", !shown);
  }
  function showGrad(i, shown) {
    const e = els[i];
    if (e.grad) e.grad.textContent = "grad " + (shown && nodes[i].grad !== null ? nodes[i].grad : "?");
    if (e.pill) e.pill.setAttribute("fill", shown ? e.pill.dataset.fill : "#ffffff");
  }
  function applyStep(k, forward) {
    const step = steps[k];
    if (step.kind === "forward") showData(step.node, forward);
    else if (step.kind === "backward") showGrad(step.node, forward);
  }

  let k = 0;
  for (let i = 0; i < nodes.length; i++) {
    showData(i, nodes[i].leaf);
    showGrad(i, false);
  }

  // ---- geometry, read once --------------------------------------------------------------------
  // A step only writes to the DOM and never reads its layout: a read after a write makes
  // Chromium lay out the whole SVG, which took ~25 ms a step on MLP(2, [16, 16, 1]) (its
  // browser test, clicking through 1,624 steps, took 48 s; 3.5 s with the boxes read once here).
  const layer = svg.querySelector("g.graph") || svg;
  const shift = layer.transform.baseVal.consolidate();
  const tx = shift ? shift.matrix.e : 0;
  const ty = shift ? shift.matrix.f : 0;
  const vb = svg.viewBox.baseVal;
  const boxes = []; // node -> its box in the graph's own coordinates
  const view = { left: 0, top: 0, width: 0, height: 0, x: 0, y: 0 }; // scroll, size, svg offset
  function measureView() {
    view.width = graphBox.clientWidth;
    view.height = graphBox.clientHeight;
    view.left = graphBox.scrollLeft;
    view.top = graphBox.scrollTop;
    // where the svg sits in the scrolled content (an SVG element has no offsetLeft)
    const outer = graphBox.getBoundingClientRect();
    const inner = svg.getBoundingClientRect();
    view.x = inner.left - outer.left - graphBox.clientLeft + view.left;
    view.y = inner.top - outer.top - graphBox.clientTop + view.top;
  }
  function measure() {
    for (let i = 0; i < nodes.length; i++) {
      const b = els[i].g ? els[i].g.getBBox() : null;
      boxes[i] = b && { x: b.x, y: b.y, width: b.width, height: b.height };
    }
    measureView();
  }
  graphBox.addEventListener("scroll", () => {
    view.left = graphBox.scrollLeft;
    view.top = graphBox.scrollTop;
  }, { passive: true });
  window.addEventListener("resize", measureView);

  // ---- highlights: a frame around the step's node, its edges in colour ---------------------
  const frames = [];
  let lit = [];
  function frame(i, kind) {
    const box = boxes[i];
    if (!box) return;
    const r = document.createElementNS(SVGNS, "rect");
    r.setAttribute("x", box.x - 4);
    r.setAttribute("y", box.y - 4);
    r.setAttribute("width", box.width + 8);
    r.setAttribute("height", box.height + 8);
    r.setAttribute("rx", 7);
    r.setAttribute("class", "cr-frame cr-frame-" + kind);
    layer.appendChild(r);
    frames.push(r);
  }
  function clearHighlights() {
    for (const r of frames) r.remove();
    frames.length = 0;
    for (const g of lit) g.classList.remove("cr-lit");
    lit = [];
  }
  function highlight(step) {
    clearHighlights();
    if (step.kind === "start") return;
    for (const name of step.edges) {
      for (const g of edges.get(name) || []) {
        g.classList.add("cr-lit");
        lit.push(g);
      }
    }
    for (const i of step.from || step.to || []) frame(i, "other");
    frame(step.node, "current");
    reveal(step.node);
  }
  function reveal(i) {
    // scroll the graph (not the whole page) so that node i is in view, centred if it was not
    const box = boxes[i];
    if (!box) return;
    if (view.width === 0) measureView(); // (the page was hidden when it started)
    const scale = vb && vb.width ? svg.width.baseVal.value / vb.width : 1;
    const left = view.x + (box.x + tx - (vb ? vb.x : 0)) * scale;
    const top = view.y + (box.y + ty - (vb ? vb.y : 0)) * scale;
    const width = box.width * scale;
    const height = box.height * scale;
    const margin = 24; // a node touching the edge counts as out of view
    if (left < view.left + margin || left + width > view.left + view.width - margin) {
      view.left = Math.max(0, left + width / 2 - view.width / 2);
      graphBox.scrollLeft = view.left;
    }
    if (top < view.top + margin || top + height > view.top + view.height - margin) {
      view.top = Math.max(0, top + height / 2 - view.height / 2);
      graphBox.scrollTop = view.top;
    }
  }

  // ---- the two cards: this step, and the node clicked --------------------------------------
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function termTable(terms, total, name) {
    const table = el("table", "cr-terms");
    const head = table.insertRow();
    for (const h of ["through", "upstream grad", "", "local derivative", "", "contribution"]) {
      const th = el("th", "", h);
      head.appendChild(th);
    }
    for (const t of terms) {
      const row = table.insertRow();
      for (const [text, cls] of [[t.via, "cr-via"], [t.upstream, "cr-num"], ["\u00d7", "cr-op"],
        [t.local, "cr-num"], ["=", "cr-op"], [t.product, "cr-num"]]) {
        row.appendChild(el("td", cls, text));
      }
    }
    const sum = table.insertRow();
    sum.className = "cr-sum";
    const label = el("td", "cr-via", terms.length > 1 ? "sum: grad of " + name : "grad of " + name);
    label.colSpan = 5;
    sum.appendChild(label);
    sum.appendChild(el("td", "cr-num", total));
    return table;
  }

  const stepCard = root.querySelector(".cr-step");
  const panel = root.querySelector(".cr-panel");
  function describeStep() {
    const step = steps[k];
    stepCard.replaceChildren();
    if (step.kind === "start") {
      stepCard.appendChild(el("h3", "", "Start"));
      const leaves = nodes.filter((x) => x.leaf).length;
      stepCard.appendChild(el("p", "", "The " + leaves + " leaves (inputs and parameters) have " +
        "their values. Next (or \u2192) runs the forward pass one node at a time, then the " +
        "backward pass."));
      return;
    }
    const node = nodes[step.node];
    if (step.kind === "forward") {
      stepCard.appendChild(el("h3", "", "Forward: " + step.title));
      const p = el("p", "cr-formula");
      p.appendChild(el("span", "", step.formula));
      p.appendChild(el("br"));
      p.appendChild(el("span", "cr-numbers", step.numbers));
      stepCard.appendChild(p);
      return;
    }
    stepCard.appendChild(el("h3", "", "Backward: the gradient of " + node.name));
    if (step.seed) {
      stepCard.appendChild(el("p", "", "The backward pass starts at the output with " +
        "d" + node.name + "/d" + node.name + " = " + step.grad + " (the seed)."));
      return;
    }
    stepCard.appendChild(el("p", "cr-muted", "Chain rule: over each use of " + node.name +
      ", upstream grad \u00d7 local derivative = contribution; the gradient is their sum."));
    stepCard.appendChild(termTable(step.terms, step.grad, node.name));
  }

  let selected = null;
  function describeNode() {
    if (selected === null) return;
    const node = nodes[selected];
    panel.replaceChildren();
    panel.appendChild(el("h3", "", node.name));
    const dl = el("dl", "cr-facts");
    const fact = (term, value) => {
      dl.appendChild(el("dt", "", term));
      dl.appendChild(el("dd", "", value));
    };
    if (node.path) fact("name", node.path);
    fact("kind", node.kind);
    fact("op", node.op || "none (a leaf)");
    const fwdDone = node.leaf || k >= node.fwd;
    fact("value", fwdDone ? node.dataExact : "not yet (forward step " + node.fwd + ")");
    const bwdDone = node.bwd !== undefined && k >= node.bwd;
    fact("gradient", node.gradExact === null ? "none (a constant)" :
      bwdDone ? node.gradExact : "not yet (backward step " + node.bwd + ")");
    panel.appendChild(dl);
    if (node.bwd === undefined) return;
    const step = steps[node.bwd];
    if (!bwdDone) return;
    if (step.seed) {
      panel.appendChild(el("p", "", "The output: its gradient is the seed, " + step.grad + "."));
      return;
    }
    panel.appendChild(el("p", "cr-muted", "Its gradient, summed over its " + step.terms.length +
      (step.terms.length === 1 ? " use:" : " uses:")));
    panel.appendChild(termTable(step.terms, step.grad, node.name));
  }
  function select(i) {
    for (const g of root.querySelectorAll(".cr-selected")) g.classList.remove("cr-selected");
    selected = i;
    for (const g of [els[i].g, els[i].op]) if (g) g.classList.add("cr-selected");
    describeNode();
  }
  svg.addEventListener("click", (event) => {
    const g = event.target.closest("g.cr-node");
    if (g) select(Number(g.dataset.node));
  });

  // ---- controls ------------------------------------------------------------------------------
  const counter = root.querySelector(".cr-counter");
  const phase = root.querySelector(".cr-phase");
  const back = root.querySelector(".cr-back");
  const next = root.querySelector(".cr-next");
  function go(target) {
    target = Math.max(0, Math.min(n, target));
    while (k < target) applyStep(++k, true);
    while (k > target) applyStep(k--, false);
    counter.textContent = "step " + k + " / " + n;
    const kind = steps[k].kind;
    phase.textContent = kind === "start" ? "start" : kind === "forward" ? "forward pass" : "backward pass";
    phase.dataset.kind = kind;
    back.disabled = k === 0;
    next.disabled = k === n;
    highlight(steps[k]);
    describeStep();
    describeNode();
  }
  next.addEventListener("click", () => go(k + 1));
  back.addEventListener("click", () => go(k - 1));
  root.querySelector(".cr-reset").addEventListener("click", () => go(0));
  root.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const to = { ArrowRight: k + 1, ArrowLeft: k - 1, Home: 0, End: n }[event.key];
    if (to === undefined) return;
    event.preventDefault();
    event.stopPropagation(); // Jupyter would take the arrows for itself
    go(to);
  });

  // ---- zoom ------------------------------------------------------------------------------------
  const box = svg.viewBox.baseVal;
  const naturalWidth = box && box.width ? box.width * 4 / 3 : svg.getBoundingClientRect().width;
  const naturalHeight = box && box.height ? box.height * 4 / 3 : svg.getBoundingClientRect().height;
  let zoom = 1;
  function setZoom(z) {
    zoom = Math.max(0.1, Math.min(3, z));
    svg.setAttribute("width", naturalWidth * zoom + "px");
    svg.setAttribute("height", naturalHeight * zoom + "px");
  }
  function fitZoom(width) {
    return width > 0 ? Math.min(1, width / naturalWidth) : 1;
  }
  function fit() {
    setZoom(fitZoom(graphBox.clientWidth - 16));
    measureView();
  }
  root.querySelector(".cr-zoom-in").addEventListener("click", () => {
    setZoom(zoom * 1.25);
    measureView();
  });
  root.querySelector(".cr-zoom-out").addEventListener("click", () => {
    setZoom(zoom / 1.25);
    measureView();
  });
  root.querySelector(".cr-zoom-fit").addEventListener("click", fit);
  // at first the whole graph if its text stays readable (12 px boxes at 3/4 size, 9 px);
  // a wider graph scrolls, and each step brings its node into view
  // (The window's width stands in for the graph's: reading the graph's own width would lay out
  // the whole SVG once more, at its first size: on the MLP(2, [16, 16, 1]) page, layout took
  // 0.47 s with that read and 0.30 s without, medians of 6 loads on the busy 2-core machine.)
  setZoom(Math.max(fitZoom(window.innerWidth - 60), 0.75));

  root.querySelector(".cr-title").textContent = data.title;
  if (data.notice) {
    const notice = root.querySelector(".cr-notice");
    notice.textContent = data.notice;
    notice.hidden = false;
  }
  measure();
  go(0);
  if (document.body && document.body.firstElementChild === root) root.focus({ preventScroll: true });
  root.dataset.initMs = String(Math.round(performance.now() - started));
  root.dataset.ready = "true";
}
