// The network page's graph: choosing an organisation highlights its partners and lists recommendations.
// The graph itself is server-drawn SVG and readable without this script.
(function () {
  "use strict";
  var svg = document.querySelector("#graph svg");
  var panel = document.getElementById("node-panel");
  if (!svg || !panel) { return; }
  var zh = panel.getAttribute("data-lang") !== "en";
  var lines = Array.prototype.slice.call(svg.querySelectorAll("line[data-source]"));
  var nodes = Array.prototype.slice.call(svg.querySelectorAll("g.node"));

  function text(tag, content, className) {
    var element = document.createElement(tag);
    element.textContent = content;
    if (className) { element.className = className; }
    return element;
  }

  function highlight(id) {
    var partners = {};
    partners[id] = true;
    lines.forEach(function (line) {
      var joined = line.getAttribute("data-source") === id || line.getAttribute("data-target") === id;
      line.classList.toggle("on", joined);
      if (joined) {
        partners[line.getAttribute("data-source")] = true;
        partners[line.getAttribute("data-target")] = true;
      }
    });
    svg.classList.add("focused");
    nodes.forEach(function (node) {
      node.classList.toggle("on", !!partners[node.getAttribute("data-id")]);
    });
  }

  function show(id) {
    highlight(id);
    panel.replaceChildren(text("p", zh ? "加载中……" : "Loading…", "muted"));
    var base = "/api/v1/network/organisations/" + encodeURIComponent(id);
    Promise.all([fetch(base).then(answer), fetch(base + "/partners?limit=8").then(answer)])
      .then(function (bodies) { render(bodies[0], bodies[1]); })
      .catch(function (error) { panel.replaceChildren(text("p", String(error.message || error), "error")); });
  }

  function answer(response) {
    return response.json().then(function (body) {
      if (!response.ok) { throw new Error(zh ? body.error.message_zh : body.error.message); }
      return body;
    });
  }

  function name(card) {
    return (zh ? card.name.zh || card.name.en : card.name.en || card.name.zh) || card.label;
  }

  function render(node, advice) {
    var link = document.createElement("a");
    link.href = "/orgs/" + encodeURIComponent(node.id);
    link.textContent = name(node);
    var heading = document.createElement("h3");
    heading.appendChild(link);
    panel.replaceChildren(heading, text("p", (zh ? "合作伙伴 " : "Partners ") + node.degree +
      (zh ? "，合作次数 " : ", shared activities ") + node.strength, "muted"));
    var partners = document.createElement("ul");
    node.partners.slice(0, 12).forEach(function (p) {
      partners.appendChild(text("li", name(p) + " × " + p.weight));
    });
    panel.appendChild(text("h4", zh ? "现有合作伙伴" : "Current partners"));
    panel.appendChild(partners);
    panel.appendChild(text("h4", zh ? "推荐合作伙伴" : "Recommended partners"));
    if (!advice.results.length) {
      panel.appendChild(text("p", zh ? "暂无推荐。" : "No recommendation yet.", "muted"));
      return;
    }
    var list = document.createElement("ol");
    advice.results.forEach(function (r) {
      var item = text("li", name(r) + " ");
      var reasons = r.reasons.map(function (reason) {
        var items = reason.items.length ? "：" + reason.items.join("、") : "";
        return (zh ? reason.zh : reason.en) + items;
      });
      item.appendChild(text("span", reasons.join("；"), "muted"));
      list.appendChild(item);
    });
    panel.appendChild(list);
  }

  nodes.forEach(function (node) {
    var id = node.getAttribute("data-id");
    node.addEventListener("click", function () { show(id); });
    node.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); show(id); }
    });
  });
})();
