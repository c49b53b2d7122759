// Drive one headless Chromium for the Python tests: one JSON command per stdin line, one
// JSON answer per stdout line, so pytest keeps the servers and the timeline in its hands.
//
//   > {"id": 1, "command": "goto", "url": "http://127.0.0.1:8000/"}
//   < {"id": 1, "ok": true, "result": null}

import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
// Flags for a quiet, sandbox-free browser in a container with no network beyond loopback.
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
let context;
let tabs = [];
let page;
let consoleLines = [];

function watch(tab) {
  const index = tabs.length;
  tab.on("console", (message) => consoleLines.push(`[${index}] ${message.type()}: ${message.text()}`));
  tab.on("pageerror", (error) => consoleLines.push(`[${index}] pageerror: ${error.message}`));
  tabs.push(tab);
  page = tab;
  return index;
}

// A fresh browser profile (cookies, storage, locks) with one tab. `timezoneId` sets the
// browser's own zone; `clock` installs a controllable clock starting now.
async function newContext({
  viewport = { width: 1100, height: 700 },
  timezoneId,
  permissions = [],
  clock = false,
} = {}) {
  if (context) await context.close();
  context = await browser.newContext({ viewport, timezoneId, permissions });
  if (clock) await context.clock.install();
  tabs = [];
  consoleLines = [];
  watch(await context.newPage());
}

// Poll an expression from here: the board's CSP rightly forbids the eval that
// page.waitForFunction needs.
async function waitUntil({ expression, timeout = 5000 }) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await page.evaluate(expression);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`waitUntil timed out: ${expression}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const commands = {
  newContext,
  newPage: newContext,
  newTab: async () => watch(await context.newPage()),
  useTab: async ({ index }) => {
    page = tabs[index];
    await page.bringToFront();
  },
  closeTab: async ({ index }) => {
    await tabs[index].close({ runBeforeUnload: false });
    page = tabs.find((tab) => !tab.isClosed());
  },
  goto: ({ url }) => page.goto(url).then(() => null),
  reload: () => page.reload().then(() => null),
  fill: ({ selector, value }) => page.fill(selector, value),
  click: ({ selector }) => page.click(selector),
  press: ({ key }) => page.keyboard.press(key),
  focus: ({ selector }) => page.focus(selector),
  selectOption: ({ selector, value }) => page.selectOption(selector, value).then(() => null),
  dragAndDrop: ({ source, target }) => page.dragAndDrop(source, target),
  // Press on an element's centre, move by (dx, dy) in `steps`, and let go, as a hand would.
  dragBy: async ({ selector, dx = 0, dy = 0, steps = 8 }) => {
    const box = await page.locator(selector).boundingBox();
    const x = box.x + box.width / 2;
    const y = box.y + box.height / 2;
    await page.mouse.move(x, y);
    await page.mouse.down();
    await page.mouse.move(x + dx, y + dy, { steps });
    await page.mouse.up();
  },
  box: ({ selector }) => page.locator(selector).boundingBox(),
  scroll: ({ y }) => page.evaluate(`window.scrollTo(0, ${Number(y)})`),
  waitFor: ({ selector, timeout = 5000, state = "visible" }) =>
    page.waitForSelector(selector, { timeout, state }).then(() => null),
  waitForFunction: ({ expression, timeout = 5000 }) =>
    page.waitForFunction(expression, null, { timeout }).then(() => null),
  waitUntil,
  evaluate: ({ expression }) => page.evaluate(expression),
  text: ({ selector }) => page.textContent(selector),
  attribute: ({ selector, name }) => page.getAttribute(selector, name),
  cookies: () => context.cookies(),
  clearCookies: () => context.clearCookies(),
  setOffline: ({ offline }) => context.setOffline(offline),
  fastForward: ({ ms }) => context.clock.fastForward(ms),
  // Finite animations are fast-forwarded, so a highlight is shown as it settles.
  screenshot: ({ path, fullPage = false }) =>
    page.screenshot({ path, fullPage, animations: "disabled" }).then(() => null),
  console: () => consoleLines,
};

await newContext();
process.stdout.write(`${JSON.stringify({ ready: true, version: browser.version() })}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  const { id, command, ...args } = JSON.parse(line);
  let answer;
  try {
    if (command === "quit") break;
    answer = { id, ok: true, result: (await commands[command](args)) ?? null };
  } catch (error) {
    answer = { id, ok: false, error: String(error.message || error) };
  }
  process.stdout.write(`${JSON.stringify(answer)}\n`);
}
await browser.close();
// stdin may still be open (after `quit`); it must not keep the process alive.
process.exit(0);
