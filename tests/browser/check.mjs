// Usage: node check.mjs BASE_URL USER PASSWORD PAGE...
//        node check.mjs file:///path/report.html   (a standalone file: no login)
// Logs in through the form, opens each page in headless Chromium and fails
// (exit 1) on a console error, an uncaught exception, a failed request, a
// request that leaves the server (no CDN), a page without its heading, or
// a chart that draws nothing.
import { chromium } from "playwright-core";

const [base, user, password, ...pages] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"] });
const page = await (await browser.newContext()).newPage();
const problems = [];
page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()} @ ${page.url()}`); });
page.on("pageerror", (e) => problems.push(`exception: ${e.message} @ ${page.url()}`));
page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
page.on("request", (r) => { if (!r.url().startsWith(base)) problems.push(`external request: ${r.url()}`); });

const standalone = base.startsWith("file://");
if (!standalone) {
  await page.goto(`${base}/login`);
  await page.fill("input[name=username]", user);
  await page.fill("input[name=password]", password);
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  if (!page.url().includes("/p/overview")) problems.push(`login did not reach the overview: ${page.url()}`);
}

for (const path of standalone ? [""] : pages) {
  const response = await page.goto(`${base}${path}`);
  if (!response || (!standalone && response.status() !== 200)) problems.push(`${path}: HTTP ${response && response.status()}`);
  const heading = await page.textContent(standalone ? "h1" : "main h1");
  if (!heading || !heading.trim()) problems.push(`${path}: no heading`);
  for (const svg of await page.$$("figure svg")) {
    const box = await svg.boundingBox();
    if (!box || box.width < 50 || box.height < 30) problems.push(`${path}: a chart has no size`);
  }
  const text = await page.textContent("body");
  if (text.includes("查询出错")) problems.push(`${path}: a panel failed`);
  if (process.env.SCREENSHOTS) {
    const name = `${process.env.SCREENSHOT_PREFIX || "page"}${path.replace(/[^a-z0-9]+/gi, "_") || "_file"}.png`;
    await page.screenshot({ path: `${process.env.SCREENSHOTS}/${name}`, fullPage: true });
  }
  console.log(`ok ${path} «${heading.trim()}» ${(await page.$$("figure svg")).length} charts`);
}
await browser.close();
if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
