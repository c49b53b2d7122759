// Retake the README's screenshots from a running `make run` demo:
//
//   make run                                   # terminal 1
//   node tests/browser/screenshots.mjs http://127.0.0.1:8000 docs   # terminal 2
//
// Desktop list, timeline and booking form at 1280×800, and the list on a 360 px phone.

import { chromium } from "playwright-core";

const [base = "http://127.0.0.1:8000", folder = "docs"] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu"],
});

async function board(viewport, email, path = "/") {
  const context = await browser.newContext({ viewport, timezoneId: "Europe/London" });
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error(`pageerror: ${error.message}`));
  await page.goto(`${base}${path}`);
  await page.fill("#login input[name=email]", email);
  await page.fill("#login input[name=password]", "everfresh-demo");
  await page.click("#login button");
  await page.waitForSelector("#connection[data-state=live]");
  await page.waitForSelector("#list-loading", { state: "hidden" });
  // Names resolve a moment after the list: wait until none shows "…".
  await page.waitForFunction(() => !document.body.innerText.includes("…"), null, { timeout: 5000 }).catch(() => null);
  return { context, page };
}

const desktop = { width: 1280, height: 800 };
const admin = "admin@everfresh.test";

let { context, page } = await board(desktop, admin);
await page.screenshot({ path: `${folder}/board.png`, animations: "disabled" });
await context.close();

({ context, page } = await board(desktop, admin, "/?view=staff"));
await page.waitForSelector("#timeline .tl-block");
await page.screenshot({ path: `${folder}/board-timeline.png`, animations: "disabled" });
await page.click("#new-booking");
await page.waitForSelector("#booking-form[open]");
await page.fill("#bf-customer", "lo");
await page.waitForSelector("#bf-matches .match");
await page.click("#bf-matches .match");
const staff = await page.$$eval("#bf-staff option", (options) => options.map((option) => option.value));
await page.selectOption("#bf-staff", staff[1]);
// A time the first staff member is already busy at, so the clash shows before sending.
const busy = await page.$eval(
  `#timeline .tl-row[data-staff-id="${staff[1]}"] .tl-block`,
  (block) => block.dataset.start,
).catch(() => "10:00");
await page.fill("#bf-time", busy);
await page.waitForSelector("#bf-clash", { timeout: 3000 }).catch(() => null);
await page.screenshot({ path: `${folder}/board-form.png`, animations: "disabled" });
await context.close();

({ context, page } = await board({ width: 360, height: 740 }, "staff@everfresh.test"));
await page.screenshot({ path: `${folder}/board-phone.png`, animations: "disabled" });
await context.close();

await browser.close();
