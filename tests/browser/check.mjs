// Usage: node check.mjs BASE_URL USER PASSWORD PAGE...
//        node check.mjs file:///path/report.html   (a standalone file: no login)
// Logs in through the form and opens each page in headless Chromium at
// 1366×768 and 1920×1080; fails (exit 1) on a console error, an uncaught
// exception, a failed request, a request that leaves the server (no CDN), a
// page without its heading, a chart that draws nothing, chart text under
// 12 px, a page wider than the window (horizontal scroll), a chart of rows
// (bars, heat map, funnel, map) without links, a chart link that leads
// nowhere; for a reader (LATIN_FREE=1: leaders and units) Latin-letter
// identifiers or ISO/UTC times in the visible text; on the overview, key
// figures, funnel and map not inside the first 768 px.
import { chromium } from "playwright-core";

const [base, user, password, ...pages] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"] });
const context = await browser.newContext();
const page = await context.newPage();
const problems = [];
page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()} @ ${page.url()}`); });
page.on("pageerror", (e) => problems.push(`exception: ${e.message} @ ${page.url()}`));
page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
page.on("request", (r) => { if (!r.url().startsWith(base)) problems.push(`external request: ${r.url()}`); });

const standalone = base.startsWith("file://");
const latinFree = process.env.LATIN_FREE === "1";
// Latin a reader may see: the names of file formats and tools, file names,
// and departments' record numbers (HT…, XF…: letters then digits).
const ALLOWED = /\b(CSV|XLSX|Word|PDF|HTML|Excel|SQL|GeoJSON)\b|[\w.-]+\.(csv|xlsx|jsonl|json|docx|html|md)\b|\b[A-Z]{1,4}\d{4,}\b/g;

if (!standalone) {
  await page.goto(`${base}/login`);
  await page.fill("input[name=username]", user);
  await page.fill("input[name=password]", password);
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  const landing = user.includes("unit") ? "/cases" : "/p/overview";
  if (!page.url().includes(landing)) problems.push(`login did not reach ${landing}: ${page.url()}`);
}

const sizes = standalone ? [[1366, 768]] : [[1366, 768], [1920, 1080]];
for (const [width, height] of sizes) {
  await page.setViewportSize({ width, height });
  for (const path of standalone ? [""] : pages) {
    const where = `${path} @${width}×${height}`;
    const response = await page.goto(`${base}${path}`);
    if (!response || (!standalone && response.status() !== 200)) problems.push(`${where}: HTTP ${response && response.status()}`);
    const heading = await page.textContent(standalone ? "h1" : "main h1");
    if (!heading || !heading.trim()) problems.push(`${where}: no heading`);
    for (const svg of await page.$$("figure svg")) {
      const box = await svg.boundingBox();
      if (!box || box.width < 50 || box.height < 30) problems.push(`${where}: a chart has no size`);
    }
    const small = await page.$$eval("figure svg text", (texts) => texts.map((t) => parseFloat(getComputedStyle(t).fontSize)).filter((s) => s < 12));
    if (small.length) problems.push(`${where}: ${small.length} chart labels under 12 px (${small.slice(0, 3).join(", ")})`);
    const scroll = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    if (scroll > 1) problems.push(`${where}: the page scrolls sideways by ${scroll} px`);
    // Every chart of rows links to them, and its first link leads to a page.
    const charts = await page.$$eval("section.view-bars, section.view-heat, section.view-funnel, section.view-map", (sections) =>
      sections.map((s) => ({ id: s.id, links: [...s.querySelectorAll("figure svg a")].map((a) => a.getAttribute("href")), empty: !s.querySelector("figure svg rect, figure svg polygon") })));
    for (const chart of charts) {
      if (!chart.links.length) { if (!chart.empty) problems.push(`${where}: chart ${chart.id} has no links to its rows`); continue; }
      const target = await context.request.get(new URL(chart.links[0], base).href);
      if (target.status() !== 200) problems.push(`${where}: chart ${chart.id}'s link ${chart.links[0]} answers ${target.status()}`);
    }
    if (latinFree) {
      const text = await page.evaluate(() => {
        // Folded details and the user's own login name are not read as the page.
        for (const d of document.querySelectorAll("details:not([open]), header .user")) d.remove();
        return document.body.innerText;
      });
      const latin = (text.replace(ALLOWED, "").match(/[A-Za-z_][A-Za-z0-9_]{2,}/g) || []);
      if (latin.length) problems.push(`${where}: Latin in the visible text: ${[...new Set(latin)].slice(0, 8).join(", ")}`);
      const iso = text.match(/\d{4}-\d{2}-\d{2}T\d{2}|\bUTC\b|\d{4}-\d{2}-\d{2} \d{2}:\d{2}/g);
      if (iso) problems.push(`${where}: machine times in the visible text: ${iso.slice(0, 3).join(", ")}`);
      await page.reload();
    }
    if (path === "/p/overview") {
      for (const id of ["kpis", "case_funnel", "risk_map"]) {
        const box = await (await page.$(`#${id}`))?.boundingBox();
        if (!box) problems.push(`${where}: the overview has no #${id}`);
        else if ((id === "kpis" ? box.y + box.height : box.y + 120) > 768) problems.push(`${where}: #${id} is not inside the first 768 px (top ${Math.round(box.y)}, height ${Math.round(box.height)})`);
      }
    }
    if (process.env.SCREENSHOTS) {
      const name = `${process.env.SCREENSHOT_PREFIX || "page"}${path.replace(/[^a-z0-9]+/gi, "_") || "_file"}${standalone ? "" : `-${width}`}.png`;
      await page.screenshot({ path: `${process.env.SCREENSHOTS}/${name}`, fullPage: true });
    }
    console.log(`ok ${where} «${heading.trim()}» ${(await page.$$("figure svg")).length} charts`);
  }
}
await browser.close();
if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
