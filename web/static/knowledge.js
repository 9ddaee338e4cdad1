/* gridflow knowledge panel (templates/knowledge/_panel.html) on the intake page:
   - as the caller's words are typed into the data-text field, GET the data-results URL with
     q (and the data-category field's code) about 350 ms after typing stops, and put the
     server-rendered matches in #kb-results (only the latest answer is shown);
   - "answer with this" puts the article's answer into the answer box and cites the article;
   - sending the answer copies the intake form's caller fields into the answer form. */
"use strict";
(function () {
  var panel = document.getElementById("kb-panel");
  if (!panel || !window.fetch || !window.URLSearchParams) return;
  var text = document.getElementById(panel.getAttribute("data-text"));
  var category = document.getElementById(panel.getAttribute("data-category"));
  var results = document.getElementById("kb-results");
  var form = document.getElementById("kb-answer-form");
  var answer = document.getElementById("kb-answer");
  var articleId = document.getElementById("kb-article-id");
  var label = document.getElementById("kb-article-label");
  var timer = null, asked = 0, last = null;

  function leadingCode(input, digits) {
    var match = input ? new RegExp("^\\s*(\\d{" + digits + "})").exec(input.value) : null;
    return match ? match[1] : "";
  }
  function categoryCode() { return leadingCode(category, "5"); }

  function look() {
    var q = text ? text.value.trim() : "";
    var key = q + "|" + categoryCode();
    if (key === last) return;
    last = key;
    if (q.length < 2) { results.textContent = ""; return; }
    var mine = ++asked;
    var params = new URLSearchParams({ q: q.slice(0, 200), category: categoryCode() });
    fetch(panel.getAttribute("data-results") + "?" + params.toString(), {
      credentials: "same-origin", headers: { "Accept": "text/html" }
    }).then(function (response) {
      return response.ok ? response.text() : null;
    }).then(function (html) {
      if (html !== null && mine === asked) results.innerHTML = html;  /* server-escaped */
    }).catch(function () {});
  }

  function soon() {
    if (timer) clearTimeout(timer);
    timer = setTimeout(look, 350);
  }

  if (text) text.addEventListener("input", soon);
  if (category) category.addEventListener("change", soon);
  if (text && text.value.trim()) look();

  results.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".kb-use") : null;
    if (!button) return;
    var item = button.closest("li");
    var body = item ? item.querySelector(".kb-answer") : null;
    var title = item ? item.querySelector("summary") : null;
    if (!body || !answer) return;
    answer.value = body.textContent.trim();
    articleId.value = button.getAttribute("data-article");
    if (label) {
      label.querySelector("span").textContent = title ? title.textContent.trim() : "";
      label.hidden = false;
    }
    answer.focus();
  });

  if (!form || !answer) return;  /* the answer form is the operators' */
  answer.addEventListener("input", function () {
    if (!answer.value.trim()) { articleId.value = ""; if (label) label.hidden = true; }
  });

  var copied = { description: "description", category: "category", reporter_phone: "reporter_phone",
                 reporter_name: "reporter_name", call_id: "external_id", grid_code: "grid_code" };
  form.addEventListener("submit", function () {
    Object.keys(copied).forEach(function (name) {
      var source = document.getElementById(copied[name]);
      var target = form.querySelector("input[name='" + name + "']");
      if (source && target && source.value.trim()) {
        if (name === "category") target.value = categoryCode();
        else if (name === "grid_code") target.value = leadingCode(source, "2,32");
        else target.value = source.value.trim();
      }
    });
  });
})();
