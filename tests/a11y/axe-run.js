#!/usr/bin/env node
// axe-core over the pages that tests/a11y/pages.py prepared, in one headless Debian Chromium.
//
//   node tests/a11y/axe-run.js PAGES_JSON RESULTS_JSON [--screenshots DIR]
//
// PAGES_JSON (written by pages.py): {"root": folder served at /, "tags": [...], "pages": [{"id",
// "path" (under root), "mathjax" (bool), "modes": [{"name", "bodyClass" | null, "canvas" | null}],
// "screenshot" (bool)}]}. A page is loaded once; when it has math, MathJax 3 (CommonHTML, as Anki
// and AnkiDroid use) typesets it first; every <details> is opened so that what a student can reveal
// is checked too; then each mode (day, night, ...) sets the body classes Anki sets and axe runs.
//
// The pages are served from 127.0.0.1 (MathJax's fonts do not load from file:// pages) and the
// browser is the system's Chromium: nothing is downloaded.
"use strict";

const fs = require("fs");
const http = require("http");
const path = require("path");
const puppeteer = require("puppeteer-core");

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run"];
const AXE = require.resolve("axe-core/axe.min.js");
const MATHJAX = path.dirname(require.resolve("mathjax/package.json"));
const TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript", ".png": "image/png",
  ".woff": "font/woff", ".json": "application/json", ".css": "text/css"};

function usage(message) {
  process.stderr.write(`${message}\nusage: node axe-run.js PAGES_JSON RESULTS_JSON [--screenshots DIR]\n`);
  process.exit(2);
}

// Files under `root` at /, and the mathjax package at /mathjax/; nothing outside either.
function serve(root) {
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent(new URL(req.url, "http://127.0.0.1").pathname);
    if (url === "/favicon.ico") {   // asked for by the browser, not by a page
      res.writeHead(204).end();
      return;
    }
    const [base, rel] = url.startsWith("/mathjax/") ? [MATHJAX, url.slice(9)] : [root, url.slice(1)];
    const file = path.resolve(base, rel);
    if (!file.startsWith(path.resolve(base) + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {"content-type": TYPES[path.extname(file)] || "application/octet-stream"});
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

function slim(result) {
  return {id: result.id, impact: result.impact, help: result.help, helpUrl: result.helpUrl,
    nodes: result.nodes.map((n) => ({target: n.target, html: n.html.slice(0, 300), summary: n.failureSummary}))};
}

async function check(page, spec, tags, shots) {
  const failed = [];
  page.on("requestfailed", (r) => failed.push(r.url()));
  page.on("response", (r) => { if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`); });
  await page.goto(`${spec.url}`, {waitUntil: "load"});
  if (spec.mathjax) {
    // (a boolean: a predicate that returns the promise itself would be awaited, and never be true)
    await page.waitForFunction(() => Boolean(window.MathJax && MathJax.startup && MathJax.startup.promise),
      {timeout: 20000});
    await page.evaluate(() => MathJax.startup.promise);
  }
  await page.evaluate(() => document.querySelectorAll("details").forEach((d) => { d.open = true; }));
  const math = await page.evaluate(() => ({
    rendered: document.querySelectorAll("mjx-container").length,
    errors: document.querySelectorAll("mjx-merror, [data-mjx-error]").length,
    // TeX delimiters still in the text mean MathJax did not typeset the card.
    untypeset: (document.body.innerText.match(/\\\(|\\\[/g) || []).length,
  }));
  await page.addScriptTag({path: AXE});
  const out = [];
  for (const mode of spec.modes) {
    await page.evaluate((m) => {
      if (m.bodyClass !== null) document.body.className = m.bodyClass;
      document.documentElement.style.background = m.canvas || "";
    }, mode);
    const result = await page.evaluate((t) => axe.run(document, {
      runOnly: {type: "tag", values: t}, resultTypes: ["violations", "incomplete"]}), tags);
    out.push({id: spec.id, path: spec.path, mode: mode.name, math, failedRequests: [...failed],
      violations: result.violations.map(slim), incomplete: result.incomplete.map(slim)});
    if (shots && spec.screenshot) {
      const name = `${spec.path.replace(/[\\/]/g, "_").replace(/\.html$/, "")}-${mode.name}.png`;
      await page.screenshot({path: path.join(shots, name), fullPage: true});
    }
  }
  return out;
}

async function main() {
  const args = process.argv.slice(2);
  const at = args.indexOf("--screenshots");
  const shots = at >= 0 ? args.splice(at, 2)[1] : null;
  if (args.length !== 2 || (at >= 0 && !shots)) usage("expected two file arguments");
  const [pagesFile, resultsFile] = args;
  const spec = JSON.parse(fs.readFileSync(pagesFile, "utf-8"));
  if (!fs.existsSync(CHROMIUM)) usage(`no Chromium at ${CHROMIUM}: apt-get install -y chromium, or set CHROMIUM`);
  if (shots) fs.mkdirSync(shots, {recursive: true});

  const server = await serve(spec.root);
  const origin = `http://127.0.0.1:${server.address().port}/`;
  const browser = await puppeteer.launch({executablePath: CHROMIUM, headless: true, args: FLAGS});
  const results = [];
  try {
    const page = await browser.newPage();
    await page.setViewport({width: 800, height: 1000});
    for (const p of spec.pages) {
      page.removeAllListeners("requestfailed");
      page.removeAllListeners("response");
      try {
        results.push(...await check(page, {...p, url: origin + p.path}, spec.tags, shots));
      } catch (err) {
        throw new Error(`while checking ${p.id} (${p.path}): ${err.message}`);
      }
    }
    const report = {axe: require("axe-core/package.json").version, browser: await browser.version(),
      tags: spec.tags, results};
    fs.writeFileSync(resultsFile, JSON.stringify(report, null, 1));
  } finally {
    await browser.close();
    server.close();
  }
}

main().catch((err) => {
  process.stderr.write(`axe-run: ${err && err.stack || err}\n`);
  process.exit(1);
});
