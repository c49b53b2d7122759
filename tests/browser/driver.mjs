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
let page;
let consoleLines = [];

async function newPage({ viewport = { width: 1100, height: 700 } } = {}) {
  if (context) await context.close();
  context = await browser.newContext({ viewport });
  page = await context.newPage();
  consoleLines = [];
  page.on("console", (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
  page.on("pageerror", (error) => consoleLines.push(`pageerror: ${error.message}`));
}

const commands = {
  newPage,
  goto: ({ url }) => page.goto(url).then(() => null),
  fill: ({ selector, value }) => page.fill(selector, value),
  click: ({ selector }) => page.click(selector),
  waitFor: ({ selector, timeout = 5000, state = "visible" }) =>
    page.waitForSelector(selector, { timeout, state }).then(() => null),
  waitForFunction: ({ expression, timeout = 5000 }) =>
    page.waitForFunction(expression, null, { timeout }).then(() => null),
  evaluate: ({ expression }) => page.evaluate(expression),
  text: ({ selector }) => page.textContent(selector),
  attribute: ({ selector, name }) => page.getAttribute(selector, name),
  cookies: () => context.cookies(),
  clearCookies: () => context.clearCookies(),
  // Finite animations are fast-forwarded, so a highlight is shown as it settles.
  screenshot: ({ path }) => page.screenshot({ path, animations: "disabled" }).then(() => null),
  console: () => consoleLines,
};

await newPage();
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
