// Usage: node workbench.mjs BASE_URL STEP USER PASSWORD [ARG...]
// One step of the case workflow in headless Chromium, as its user does it:
//   assign   TOWN DUE       an analyst hands the first six 待交办 cases of a town to its unit,
//                          counting the actions it takes (prints "actions N")
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
  // Each navigation, click, choice or entry is one action.
  let actions = 0;
  const act = (f) => { actions += 1; return f(); };
  await act(() => page.goto(`${base}/cases?state=${encodeURIComponent("待交办")}&town=${town}`));
  const boxes = await page.$$("input[name=ids]");
  expect(boxes.length >= 6, `only ${boxes.length} cases to hand over`);
  await act(() => boxes[0].click());
  await act(() => boxes[5].click({ modifiers: ["Shift"] }));
  const picked = await page.$$eval("input[name=ids]:checked", (checked) => checked.map((b) => b.value));
  expect(picked.length === 6, `shift-click picked ${picked.length} cases, not 6`);
  expect((await page.textContent("fieldset.bulk .picked")).includes("已选 6 条"), "the bulk bar counts the picked cases");
  await act(() => page.selectOption("fieldset.bulk select[name=unit]", town));
  await act(() => page.fill("fieldset.bulk input[name=due]", due));
  await shot("1-analyst-picks");
  await act(() => Promise.all([page.waitForNavigation(), page.click("fieldset.bulk button[type=submit]:not([formaction])")]));
  console.log(`actions ${actions}`);
  expect((await page.textContent("p.notice") || "").includes("已将 6 条线索交办给"), "the hand-over is confirmed in words");
  await page.goto(`${base}/cases?unit=${town}`);
  const listed = await page.$$eval("table.queue a[href^='/case/']", (links) => links.map((a) => decodeURIComponent(a.getAttribute("href").slice(6))));
  for (const id of picked) expect(listed.includes(id), `case ${id} is not listed as handed to ${town}`);
  await shot("2-analyst-handed-over");
  console.log(`ok assign ${picked.join(",")}`);
} else if (step === "answer") {
  expect(page.url().endsWith("/cases"), `a unit lands on its queue, not ${page.url()}`);
  const first = await page.$("table.queue tbody a");
  expect(first, "the unit sees no case");
  const id = decodeURIComponent((await first.getAttribute("href")).slice("/case/".length));
  expect(/〔\d{4}〕\d{4}号/.test(await first.textContent()), "the queue shows the case's number in words");
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
