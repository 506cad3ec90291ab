// Usage: node workbench.mjs BASE_URL STEP USER PASSWORD [ARG...]
// One step of the case workflow in headless Chromium, as its user does it:
//   assign   TOWN DUE       an analyst hands the first three 待交办 cases of a town to its unit
//   answer   XLSX_OUT       the unit answers its first case in the form, then downloads its 交办单
//   upload   XLSX_IN        the unit uploads the filled 交办单
//   overview                a leader reads the funnel and the red cards on 总览
// Fails (exit 1) on a console error, an uncaught exception, a failed or
// external request, or a page that does not show what the step expects.
// Prints "ok STEP …" lines; screenshots go to $SCREENSHOTS.
import { chromium } from "playwright-core";

const [base, step, user, password, ...args] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"] });
const context = await browser.newContext({ acceptDownloads: true });
const page = await context.newPage();
const problems = [];
page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()} @ ${page.url()}`); });
page.on("pageerror", (e) => problems.push(`exception: ${e.message} @ ${page.url()}`));
page.on("requestfailed", (r) => { if (!r.failure()?.errorText.includes("ERR_ABORTED")) problems.push(`request failed: ${r.url()}`); });
page.on("request", (r) => { if (!r.url().startsWith(base)) problems.push(`external request: ${r.url()}`); });
const shot = async (name) => { if (process.env.SCREENSHOTS) await page.screenshot({ path: `${process.env.SCREENSHOTS}/workbench-${name}.png`, fullPage: true }); };
const expect = (ok, what) => { if (!ok) problems.push(what); };

await page.goto(`${base}/login`);
await page.fill("input[name=username]", user);
await page.fill("input[name=password]", password);
await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);

if (step === "assign") {
  const [town, due] = args;
  await page.goto(`${base}/cases?state=${encodeURIComponent("待交办")}&town=${town}`);
  const boxes = await page.$$("input[name=ids]");
  expect(boxes.length >= 3, `only ${boxes.length} cases to hand over`);
  const picked = [];
  for (const box of boxes.slice(0, 3)) { await box.check(); picked.push(await box.getAttribute("value")); }
  await page.fill("fieldset.bulk input[name=unit]", town);
  await page.fill("fieldset.bulk input[name=due]", due);
  await shot("1-analyst-picks");
  await Promise.all([page.waitForNavigation(), page.click("fieldset.bulk button[type=submit]")]);
  await page.goto(`${base}/cases?unit=${town}`);
  const listed = await page.textContent("table.queue");
  for (const id of picked) expect(listed.includes(id), `case ${id} is not listed as handed to ${town}`);
  await shot("2-analyst-handed-over");
  console.log(`ok assign ${picked.join(",")}`);
} else if (step === "answer") {
  expect(page.url().endsWith("/cases"), `a unit lands on its queue, not ${page.url()}`);
  const first = await page.$("table.queue tbody a");
  expect(first, "the unit sees no case");
  const id = (await first.textContent()).trim();
  await Promise.all([page.waitForNavigation(), first.click()]);
  expect((await page.textContent("p.sentence")).length > 20, "the case page says what was found");
  await page.selectOption("select[name=verdict]", "属实");
  await page.fill("textarea[name=note]", "经入户核实,情况属实");
  await page.fill("textarea[name=measures]", "停发并追回多发资金");
  await page.fill("form.action input[name=due][type=date] >> nth=0", "2027-01-31");
  await page.fill("form.action input[name=recovered] >> nth=0", "1200.50");
  await shot("3-unit-answers");
  await Promise.all([page.waitForNavigation(), page.click("form.action button[type=submit] >> nth=0")]);
  expect((await page.textContent(".casehead .state")).includes("整改中"), "the answer moved the case to 整改中");
  await shot("4-unit-answered");
  await page.goto(`${base}/cases`);
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("a[href^='/cases/handover.xlsx']")]);
  await download.saveAs(args[0]);
  console.log(`ok answer ${id}`);
} else if (step === "upload") {
  await page.goto(`${base}/cases`);
  await page.setInputFiles("input[name=file]", args[0]);
  await Promise.all([page.waitForNavigation(), page.click("form.upload button[type=submit]")]);
  const text = await page.textContent("main");
  expect(text.includes("已导入"), `the upload did not import: ${text.slice(0, 300)}`);
  await shot("5-unit-uploaded");
  console.log(`ok upload ${text.match(/已导入\s*(\d+)/)?.[1]}`);
} else if (step === "overview") {
  await page.goto(`${base}/p/overview`);
  const funnel = await page.textContent("#case_funnel");
  expect(funnel.includes("交办") && funnel.includes("属实"), "the overview has the funnel");
  const red = await page.$$("#case_overdue a.card.red");
  expect(red.length >= 1, "the overview shows a red card for the late unit");
  await shot("6-leader-overview");
  if (red.length) {
    await Promise.all([page.waitForNavigation(), red[0].click()]);
    expect((await page.$$("table.queue tbody tr.late")).length >= 1, "the red card drills down to the late cases");
    await shot("7-leader-drilldown");
  }
  console.log(`ok overview ${red.length} red`);
} else {
  problems.push(`unknown step ${step}`);
}
await browser.close();
if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
